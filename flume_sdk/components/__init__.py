"""The standard components shipped with the kernel, registered through its entry points."""
