"""The bench harness every part uses: setup (databases, seeding), processes, load."""
