"""Test worlds: simulated blogs, webs and archives the tests and the benchmarks build on."""
