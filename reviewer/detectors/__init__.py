"""Named detectors: checks that YAML rules reference by name (see ruleset/detector.py)."""
