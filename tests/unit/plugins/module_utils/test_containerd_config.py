# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import pytest

from ansible_collections.aifabric.cluster.plugins.module_utils import containerd_config as cc

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'containerd')
DUMPS = sorted(name for name in os.listdir(FIXTURES) if name.endswith('.toml'))
NVIDIA = '/usr/bin/nvidia-container-runtime'
EXPECT = {'systemd_cgroup': True, 'runtimes': ['runc', 'nvidia'], 'default_runtime': 'nvidia',
          'binary_names': {'nvidia': NVIDIA}}


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as fh:
        return fh.read()


@pytest.mark.parametrize('name,version', [
    ('version-1.6.txt', '1.6.20'), ('version-1.7.txt', '1.7.24'), ('version-1.7-containerd.io.txt', '1.7.25'),
    ('version-2.1.txt', '2.1.9'),
])
def test_version_of_every_packaging(name, version):
    assert cc.parse_version(fixture(name))['version'] == version


@pytest.mark.parametrize('text', ['', 'ctr github.com/containerd/containerd 1.6.20', 'containerd: command not found'])
def test_version_refuses_other_text(text):
    with pytest.raises(cc.ConfigError):
        cc.parse_version(text)


@pytest.mark.parametrize('name', DUMPS)
def test_subset_reader_reads_every_dump_as_tomllib_does(name):
    if cc.tomllib is None:
        pytest.skip('tomllib (Python 3.11+) is the reference')
    text = fixture(name)
    assert cc.parse_toml(text) == cc.tomllib.loads(text)


@pytest.mark.parametrize('name,version,plugin,image,cdi', [
    ('dump-1.6-nvidia.toml', 2, cc.CRI_V2, 'registry.k8s.io/pause:3.10', None),
    ('dump-1.7-nvidia.toml', 2, cc.CRI_V2, 'registry.k8s.io/pause:3.10', False),
    ('dump-2.1-nvidia.toml', 3, cc.CRI_V3_RUNTIME, 'registry.k8s.io/pause:3.10.1', True),
    ('dump-2.1-migrated-from-v2.toml', 3, cc.CRI_V3_RUNTIME, 'registry.k8s.io/pause:3.10', True),
])
def test_summary_of_the_nvidia_config_in_every_version(name, version, plugin, image, cdi):
    summary = cc.summarize(cc.load(fixture(name)))
    assert summary['config_version'] == version
    assert summary['cri_plugin'] == plugin
    assert summary['default_runtime'] == 'nvidia'
    assert summary['runtimes']['nvidia'] == {'runtime_type': 'io.containerd.runc.v2', 'binary_name': NVIDIA,
                                             'systemd_cgroup': True}
    assert summary['runtimes']['runc']['systemd_cgroup'] is True
    assert summary['sandbox_image'] == image
    assert summary['enable_cdi'] is cdi
    assert summary['legacy_systemd_cgroup'] is False
    assert cc.problems(summary, dict(EXPECT, sandbox_image=image)) == []


@pytest.mark.parametrize('name', ['default-1.6.toml', 'default-1.7.toml', 'default-2.1.toml'])
def test_the_packaged_default_config_is_refused_with_one_message_per_gap(name):
    summary = cc.summarize(cc.load(fixture(name)))
    found = cc.problems(summary, dict(EXPECT, sandbox_image='registry.k8s.io/pause:3.10.1', cdi=True))
    assert "runtime 'nvidia' is missing; configured: runc" in found
    assert "runtime 'runc' has SystemdCgroup = false, expected true (the kubelet's cgroupDriver is systemd)" in found
    assert "default_runtime_name is 'runc', expected 'nvidia'" in found
    assert any(msg.startswith("sandbox image is 'registry.k8s.io/pause:3.") for msg in found)
    # 1.6 has no CDI switch; 1.7 has it off; 2.x has it on by default
    assert ('enable_cdi is false, expected true' in found) == (name == 'default-1.7.toml')


def test_legacy_systemd_cgroup_proves_nothing():
    """config dump keeps the CRI plugin's top-level systemd_cgroup = false: only the runtime options count."""
    summary = cc.summarize(cc.load(fixture('dump-1.6-nvidia.toml')))
    assert summary['legacy_systemd_cgroup'] is False
    assert cc.problems(summary, {'systemd_cgroup': True}) == []
    cgroupfs = cc.problems(summary, {'systemd_cgroup': False})
    assert len(cgroupfs) == 2 and all('expected false' in msg for msg in cgroupfs)


def test_a_config_without_the_cri_plugin():
    summary = cc.summarize(cc.load('version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n'))
    assert cc.problems(summary, {})[0].startswith('the CRI plugin is not configured')


@pytest.mark.parametrize('text', ['', 'version = 2\n[plugins.x\n', 'version = 2\nroot = "/var/lib/containerd\n'])
def test_bad_text_raises(text):
    with pytest.raises(cc.ConfigError):
        cc.load(text)
    if text:
        with pytest.raises(cc.ConfigError):
            cc.parse_toml(text)


def test_subset_reader_values():
    text = ('a = 1\nb = -2\nc = 0.02\nd = true\ne = "x\\ty"\nf = \'c:\\\\raw\'\ng = [\n  "one",\n  "two",\n]\n'
            '[t."k.1".\'u\']\nh = {x = 1, y = "z"}\n[[arr]]\nn = 1\n[[arr]]\nn = 2\n')
    assert cc.parse_toml(text) == {'a': 1, 'b': -2, 'c': 0.02, 'd': True, 'e': 'x\ty', 'f': 'c:\\\\raw',
                                   'g': ['one', 'two'], 't': {'k.1': {'u': {'h': {'x': 1, 'y': 'z'}}}},
                                   'arr': [{'n': 1}, {'n': 2}]}
