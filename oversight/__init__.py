"""Reports and oversight: figures and lists that read every procedure (admission, the test, the
registry, appeals and complaints). A layer above the procedures, below the pages."""
