"""`python -m analytics <command>`: ingest, demo, summary, report."""

from analytics.cli import main

raise SystemExit(main())
