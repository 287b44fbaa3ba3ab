"""Tests of the load balancer's pure core."""
