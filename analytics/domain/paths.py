"""Where the project's own files live: the one definition of the project root.

Every default location (the store, the audit trail, the roles file, local secrets) is a path
under this root, so moving a module between packages can never move a default with it.
"""

from pathlib import Path

# analytics/domain/paths.py -> analytics/domain -> analytics -> the project root
PROJECT_ROOT = Path(__file__).resolve().parents[2]
