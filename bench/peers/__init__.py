"""Side-by-side benchmarks of jobglass and its peers: one adapter module per system.

Adapters of peers run under the peers' own venv (bench/.peers-venv, from
bench/requirements-peers.txt); jobglass's run under the project's .venv. See
bench/__main__.py for the harness and bench/peers/base.py for the interface.
"""
