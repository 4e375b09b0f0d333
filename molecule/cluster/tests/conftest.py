"""The cluster scenario's verify: every phase's tests first, then the fault passes.

Tests marked ``fault`` break something on the converged cluster (a GPU fault, a switch
port without PFC, a host MTU of 1500, ...) and restore it before they end. They run
after every other test of every phase, so that no phase's verify sees another phase's
injected fault; among themselves they keep file order.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "lab"))


def pytest_configure(config):
    config.addinivalue_line("markers", "fault: breaks one thing on the converged cluster and restores it (runs last)")


def pytest_collection_modifyitems(session, config, items):  # pylint: disable=unused-argument
    items.sort(key=lambda item: item.get_closest_marker("fault") is not None)
