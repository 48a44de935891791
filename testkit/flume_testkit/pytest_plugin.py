"""pytest11 entry point of flume-testkit: fixtures only, none of them autouse."""
