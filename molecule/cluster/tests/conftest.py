"""The cluster scenario's verify: every phase's tests first, then the fault passes.

Tests marked ``fault`` break something on the converged cluster (a GPU fault, a switch
port without PFC, a host MTU of 1500, ...) and restore it before they end. They run
after every other test of every phase, so that no phase's verify sees another phase's
injected fault; among themselves they keep file order. Tests marked ``final`` run after the
faults: one that leaves the cluster changed for good, or one that must see every test before it
(the collection of the tokens kubeadm made, for the secret search).
"""


def pytest_configure(config):
    config.addinivalue_line("markers", "fault: breaks one thing on the converged cluster and restores it (runs last)")
    config.addinivalue_line("markers", "final: runs after the faults (changes the cluster for good, or must see every test before it)")


def pytest_collection_modifyitems(session, config, items):  # pylint: disable=unused-argument
    items.sort(key=lambda item: (item.get_closest_marker("fault") is not None or item.get_closest_marker("final") is not None,
                                 item.get_closest_marker("final") is not None))
