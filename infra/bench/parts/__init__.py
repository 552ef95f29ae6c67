"""One module per bench part (`make bench ARGS="--only <part>"`), run by run.py."""
