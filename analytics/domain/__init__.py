"""Names and types only: the data contract, scope types and labels, access, number rules.

Nothing here imports the database driver or the chart library."""
