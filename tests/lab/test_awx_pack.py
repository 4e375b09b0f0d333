"""The AWX pack (extensions/awx) against the AWX API test double (lab/simulators/awx/awx_sim.py).

- apply.yml applies with changes on the first run and none on the second (the recap);
- the request bodies of a credential type, a job template with its survey and the workflow
  nodes match the golden files in tests/lab/fixtures/awx/ (ids stripped; AIFABRIC_RECORD_GOLDEN=1
  records them again);
- definitions AWX refuses are refused with AWX's messages and 400 shapes;
- pruning removes a template labelled as ours that the pack does not have and keeps an
  unlabelled one;
- the inventories import as AWX imports them (ansible-inventory --list --export, no vault
  password), and the credential types' extra vars are the names the inventories read.
"""
import base64
import json
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'lab', 'simulators', 'awx'))
import awx_sim  # noqa: E402 pylint: disable=wrong-import-position,import-error

GOLDEN = os.path.join(ROOT, 'tests', 'lab', 'fixtures', 'awx')
APPLY = os.path.join(ROOT, 'extensions', 'awx', 'apply.yml')
PACK = os.path.join(ROOT, 'extensions', 'awx', 'pack.yml')
USER, PASSWORD = 'admin', 'sim-Password-1'
RECAP = re.compile(r'^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)
ID_FIELDS = ('id', 'organization', 'credential_type', 'inventory', 'project', 'workflow_job_template',
             'unified_job_template', 'source_project')


class PackLoader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
    """pack.yml as Ansible reads it: !unsafe keeps the injector templates literal."""


PackLoader.add_constructor('!unsafe', lambda loader, node: loader.construct_scalar(node))


def load_pack():
    with open(PACK) as f:
        return yaml.load(f, Loader=PackLoader)  # nosec - a SafeLoader with one more tag


class Api(object):
    def __init__(self, base, prefix='/api/v2/'):
        self.base, self.prefix = base, prefix
        self.auth = 'Basic ' + base64.b64encode(('%s:%s' % (USER, PASSWORD)).encode()).decode()

    def call(self, method, path, body=None):
        url = self.base + (path if path.startswith('/') and not path.startswith(self.prefix[:-1]) and path.startswith('/_sim')
                           else self.prefix + path.lstrip('/'))
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={'Authorization': self.auth, 'Content-Type': 'application/json'})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as err:
            raw = err.read()
            return err.code, json.loads(raw) if raw else None

    def one(self, resource, name):
        status, page = self.call('GET', '%s/?name=%s' % (resource, urllib.request.quote(name)))
        assert status == 200 and page['count'] == 1, (resource, name, page)
        return page['results'][0]


@pytest.fixture(scope='module')
def double():
    server = awx_sim.Server(('127.0.0.1', 0), awx_sim.Store(USER, PASSWORD, project_dir=ROOT))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield 'http://127.0.0.1:%d' % server.server_address[1]
    server.shutdown()
    server.server_close()


def apply(double, tmp_path, *args, prefix=None):
    env = dict(os.environ, CONTROLLER_HOST=double, CONTROLLER_USERNAME=USER, CONTROLLER_PASSWORD=PASSWORD,
               ANSIBLE_PIPELINING='1', ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default')
    if prefix:
        env['CONTROLLER_OPTIONAL_API_URLPATTERN_PREFIX'] = prefix
    proc = subprocess.run(['ansible-playbook', '-i', 'localhost,', APPLY] + list(args), cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, check=False, timeout=300)
    recap = RECAP.search(proc.stdout)
    assert recap, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc, dict(zip(('ok', 'changed', 'unreachable', 'failed'), map(int, recap.groups())))


def strip_ids(value):
    if isinstance(value, dict):
        return dict((k, '<id>' if k in ID_FIELDS and isinstance(v, int) else strip_ids(v)) for k, v in value.items())
    if isinstance(value, list):
        return [strip_ids(v) for v in value]
    return value


def golden(name, actual):
    path = os.path.join(GOLDEN, name)
    if os.environ.get('AIFABRIC_RECORD_GOLDEN'):
        with open(path, 'w') as f:
            json.dump(actual, f, indent=2, sort_keys=True)
            f.write('\n')
    with open(path) as f:
        assert actual == json.load(f), 'request bodies differ from %s (AIFABRIC_RECORD_GOLDEN=1 records them)' % path


@pytest.fixture(scope='module')
def applied(double, tmp_path_factory):
    """Two runs of apply.yml (the second under /api/controller/), the requests of the first."""
    tmp = tmp_path_factory.mktemp('awx-apply')
    api = Api(double)
    first, first_recap = apply(double, tmp)
    assert first.returncode == 0, first.stdout[-4000:]
    _status, requests = api.call('GET', '/_sim/requests')
    api.call('DELETE', '/_sim/requests')
    second, second_recap = apply(double, tmp, prefix='/api/controller/')
    assert second.returncode == 0, second.stdout[-4000:]
    _status, second_requests = api.call('GET', '/_sim/requests')
    return {'api': api, 'tmp': tmp, 'first': first_recap, 'second': second_recap, 'requests': requests,
            'second_requests': second_requests}


def test_first_run_changes_second_changes_nothing(applied):
    assert applied['first']['changed'] > 0 and applied['first']['failed'] == 0
    assert applied['second']['changed'] == 0 and applied['second']['failed'] == 0, applied['second']
    # and sends nothing but the token request (GETs only)
    assert applied['second_requests'] == []


def test_request_bodies_match_the_golden_files(applied):
    reqs = applied['requests']

    def bodies(pattern):
        return [strip_ids({'method': r['method'], 'path': re.sub(r'/\d+/', '/<id>/', r['path']), 'body': r['body']})
                for r in reqs if re.search(pattern, r['path'])]
    ctype = [r for r in bodies(r'^/credential_types/$') if r['body']['description'].startswith('Redfish')]
    golden('credential_type_bmc.json', ctype)
    firmware_id = applied['api'].one('job_templates', 'aifabric.cluster firmware')['id']
    jt = [strip_ids({'method': r['method'], 'path': re.sub(r'/\d+/', '/<id>/', r['path']), 'body': r['body']})
          for r in reqs if r['path'].startswith('/job_templates/%d/' % firmware_id)
          or (r['path'] == '/job_templates/' and r['body']['name'] == 'aifabric.cluster firmware')]
    golden('job_template_firmware.json', jt)
    wfjt_id = applied['api'].one('workflow_job_templates', 'aifabric.cluster new nodes')['id']
    node_ids = [n['id'] for n in applied['api'].call('GET', 'workflow_job_templates/%d/workflow_nodes/' % wfjt_id)[1]['results']]
    nodes = [strip_ids({'method': r['method'], 'path': re.sub(r'/\d+/', '/<id>/', r['path']), 'body': r['body']})
             for r in reqs if (r['path'] == '/workflow_job_template_nodes/' and r['body']['workflow_job_template'] == wfjt_id)
             or any(r['path'].startswith('/workflow_job_template_nodes/%d/' % n) for n in node_ids)]
    golden('workflow_new_nodes.json', nodes)


def test_the_workflows_are_wired(applied):
    api = applied['api']
    wfjt = api.one('workflow_job_templates', 'aifabric.cluster site plan/apply')
    nodes = dict((n['identifier'], n) for n in api.call('GET', 'workflow_job_templates/%d/workflow_nodes/' % wfjt['id'])[1]['results'])
    assert nodes['plan']['job_type'] == 'check' and nodes['plan']['diff_mode'] is True
    assert nodes['plan']['success_nodes'] == [nodes['approve']['id']]
    assert nodes['approve']['summary_fields']['unified_job_template']['unified_job_type'] == 'workflow_approval_template'
    assert nodes['approve']['success_nodes'] == [nodes['apply']['id']]
    assert sorted(nodes['apply']['success_nodes']) == sorted([nodes['gpu_health']['id'], nodes['fabric_validate']['id'],
                                                              nodes['k8s_gpu_validate']['id']])
    new = api.one('workflow_job_templates', 'aifabric.cluster new nodes')
    assert new['ask_limit_on_launch'] is True


def test_slicing_and_limit_are_enforced_in_the_templates(applied):
    api = applied['api']
    pack = load_pack()
    for t in pack['controller_templates']:
        jt = api.one('job_templates', t['name'])
        if not t['aifabric_slice']['allowed']:
            assert jt['job_slice_count'] == 1 and jt['ask_job_slice_count_on_launch'] is False, t['name']
        assert jt['summary_fields']['labels']['results'][0]['name'] == 'aifabric.cluster'
    for name in ('fabric_validate', 'firmware', 'preflight', 'acceptance', 'site', 'provision'):
        assert api.one('job_templates', 'aifabric.cluster ' + name)['ask_job_slice_count_on_launch'] is False
    for name in ('fabric_validate', 'acceptance'):  # the whole cluster: a workflow limit does not reach them
        assert api.one('job_templates', 'aifabric.cluster ' + name)['ask_limit_on_launch'] is False
    provision = api.one('job_templates', 'aifabric.cluster provision')
    assert provision['ask_limit_on_launch'] is True and provision['limit'] == ''


def test_the_survey_carries_booleans_as_true_false_choices(applied):
    api = applied['api']
    jt = api.one('job_templates', 'aifabric.cluster firmware')
    spec = dict((q['variable'], q) for q in api.call('GET', 'job_templates/%d/survey_spec/' % jt['id'])[1]['spec'])
    assert spec['firmware_apply'] == dict(spec['firmware_apply'], type='multiplechoice', choices=['true', 'false'], default='false')
    assert spec['firmware_report_dir']['type'] == 'text'
    jt = api.one('job_templates', 'aifabric.cluster provision')
    spec = dict((q['variable'], q) for q in api.call('GET', 'job_templates/%d/survey_spec/' % jt['id'])[1]['spec'])
    assert spec['reinstall']['default'] == 'false' and spec['provision_install_timeout'] == dict(
        spec['provision_install_timeout'], type='integer', default=3600)


def _survey(**question):
    q = {'question_name': 'q', 'variable': 'v', 'required': False, 'type': 'text'}
    q.update(question)
    return {'name': 's', 'description': '', 'spec': [q]}


@pytest.mark.parametrize('spec,message', [
    ({'name': 's', 'spec': _survey()['spec']}, "Field 'description' is missing from survey spec."),
    ({'name': 's', 'description': '', 'spec': []}, "'spec' doesn't contain any items."),
    (_survey(type='boolean'), "'boolean' in survey question 0 is not one of 'text, textarea, password, multiplechoice, "
                              "multiselect, integer, float' allowed question types."),
    (_survey(type='integer', default='10'), 'Default value 10 in survey question 0 expected to be integer.'),
    (_survey(type='text', default=True), 'Default value True in survey question 0 expected to be string.'),
    (_survey(type='multiplechoice'), 'Survey question 0 of type multiplechoice must specify choices.'),
    (_survey(type='multiplechoice', choices=['true', 'false'], default='yes'), 'Default choice must be answered from the choices listed.'),
    (_survey(type='multiplechoice', choices=['a', 'b'], default='a\nb'), 'Multiple Choice (Single Select) can only have one default value.'),
    (_survey(required='yes'), "'required' in survey question 0 expected to be boolean."),
])
def test_a_bad_survey_is_refused_with_awx_message(applied, spec, message):
    api = applied['api']
    jt = api.one('job_templates', 'aifabric.cluster gpu')
    assert api.call('POST', 'job_templates/%d/survey_spec/' % jt['id'], spec) == (400, {'error': message})


@pytest.mark.parametrize('injectors,message', [
    ({'env': {'ANSIBLE_NET_PASSWORD': '{{ password }}'}},
     'Environment variable ANSIBLE_NET_PASSWORD may affect Ansible configuration so its use is not allowed in credentials.'),
    ({'env': {'PATH': '{{ password }}'}}, 'Environment variable PATH is not allowed to be used in credentials.'),
    ({'extra_vars': {'cluster_bmc_password': '{{ passwd }}'}}, "cluster_bmc_password uses an undefined field ('passwd' is undefined)"),
])
def test_a_bad_injector_is_refused_with_awx_message(applied, injectors, message):
    body = {'name': 'bad', 'kind': 'cloud', 'inputs': {'fields': [{'id': 'password', 'label': 'P', 'type': 'string', 'secret': True}]},
            'injectors': injectors}
    assert applied['api'].call('POST', 'credential_types/', body) == (400, {'injectors': [message]})


def test_bad_credential_type_inputs_and_kind_are_refused(applied):
    api = applied['api']
    body = {'name': 'bad', 'kind': 'ssh', 'inputs': {'fields': [{'id': 'x', 'label': 'X'}]}, 'injectors': {}}
    assert api.call('POST', 'credential_types/', body) == (400, {'kind': ["Must be 'cloud' or 'net', not ssh"]})
    body = {'name': 'bad', 'kind': 'cloud', 'inputs': {'fields': [{'id': 'x', 'label': 'X', 'type': 'boolean', 'secret': True}]}}
    assert api.call('POST', 'credential_types/', body) == (400, {'inputs': ['secret not allowed for boolean type (x)']})


def test_two_credentials_of_one_type_are_refused(applied):
    api = applied['api']
    bmc = api.one('credentials', 'aifabric.cluster BMC')
    status, other = api.call('POST', 'credentials/', {'name': 'second BMC', 'credential_type': bmc['credential_type'],
                                                      'organization': bmc['organization']})
    assert status == 201
    jt = api.one('job_templates', 'aifabric.cluster firmware')
    assert api.call('POST', 'job_templates/%d/credentials/' % jt['id'], {'id': other['id']}) == (
        400, {'error': 'Cannot assign multiple aifabric.cluster BMC credentials.'})
    api.call('DELETE', 'credentials/%d/' % other['id'])


def test_bad_workflow_nodes_are_refused(applied):
    api = applied['api']
    wfjt = api.one('workflow_job_templates', 'aifabric.cluster new nodes')
    assert api.call('POST', 'workflow_job_template_nodes/', {'workflow_job_template': wfjt['id'], 'identifier': 'ghost',
                                                             'unified_job_template': 99999}) == (
        400, {'unified_job_template': ['Invalid pk "99999" - object does not exist.']})
    fabric_validate = api.one('job_templates', 'aifabric.cluster fabric_validate')
    assert api.call('POST', 'workflow_job_template_nodes/', {'workflow_job_template': wfjt['id'], 'identifier': 'partial',
                                                             'unified_job_template': fabric_validate['id'], 'limit': 'gpu-01'}) == (
        400, {'limit': ['Field is not configured to prompt on launch.']})
    nodes = dict((n['identifier'], n) for n in api.call('GET', 'workflow_job_templates/%d/workflow_nodes/' % wfjt['id'])[1]['results'])
    assert api.call('POST', 'workflow_job_template_nodes/%d/success_nodes/' % nodes['site']['id'], {'id': nodes['provision']['id']}) == (
        400, {'Error': 'Cycle detected.'})
    assert api.call('POST', 'workflow_job_template_nodes/%d/failure_nodes/' % nodes['provision']['id'], {'id': nodes['approve']['id']}) == (
        400, {'Error': 'Relationship not allowed.'})
    assert api.call('POST', 'workflow_job_template_nodes/%d/success_nodes/' % nodes['site']['id'], {'id': 99999}) == (
        400, {'detail': 'No WorkflowJobTemplateNode matches the given query.'})


def test_a_job_template_needs_a_playbook_of_the_project(applied):
    api = applied['api']
    jt = api.one('job_templates', 'aifabric.cluster gpu')
    assert api.call('PATCH', 'job_templates/%d/' % jt['id'], {'playbook': 'playbooks/nope.yml'}) == (
        400, {'playbook': ['Playbook not found for project.']})


def test_pruning_removes_only_labelled_templates_not_in_the_pack(applied, double):
    api = applied['api']
    org = api.one('organizations', 'aifabric')['id']
    label = api.one('labels', 'aifabric.cluster')['id']
    base = {'organization': org, 'project': api.one('projects', 'aifabric.cluster')['id'],
            'inventory': api.one('inventories', 'aifabric.cluster')['id'], 'playbook': 'playbooks/base.yml'}
    status, stale = api.call('POST', 'job_templates/', dict(base, name='aifabric.cluster retired'))
    assert status == 201
    assert api.call('POST', 'job_templates/%d/labels/' % stale['id'], {'id': label})[0] == 204
    status, mine = api.call('POST', 'job_templates/', dict(base, name='site operator own template'))
    assert status == 201
    proc, recap = apply(double, applied['tmp'], '--tags', 'prune')
    assert proc.returncode == 0 and recap['changed'] == 1, proc.stdout[-3000:]
    names = [t['name'] for t in api.call('GET', 'job_templates/?page_size=200')[1]['results']]
    assert 'aifabric.cluster retired' not in names and 'site operator own template' in names
    assert 'aifabric.cluster site' in names


# ---------------------------------------------------------------- inventories as AWX imports them

SECRET_VALUES_LAB = ('lab-bmc-Secret-1', 'lab-switch-Secret-1', 'lab-bmc-Rotated-2')


def inventory_export(path, tmp_path):
    env = dict(os.environ)
    env.pop('ANSIBLE_VAULT_PASSWORD_FILE', None)
    # the export is the inventory's variables, the lab's clear-text secrets included: into this
    # test's own log, not the run's (which the suite searches for secrets)
    env['ANSIBLE_LOG_PATH'] = os.path.join(str(tmp_path), 'ansible.log')
    return subprocess.run(['ansible-inventory', '-i', path, '--list', '--export'], cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, check=False, timeout=120)


def test_the_lab_inventory_imports_without_a_vault_password(tmp_path):
    proc = inventory_export(os.path.join(ROOT, 'inventories', 'lab'), tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    for group in ('cluster', 'gpu_nodes', 'mgmt_nodes', 'switches', 'pxe_servers'):
        assert group in data, group
    # secrets are referenced, never inlined, outside the (lab-only, clear-text) vault file
    allvars = data['all']['vars']
    assert allvars['cluster_bmc_password'] == '{{ vault_cluster_bmc_password }}'
    assert data['switches']['vars']['ansible_password'] == '{{ vault_switch_admin_password }}'
    with open(os.path.join(ROOT, 'inventories', 'lab', 'group_vars', 'all', 'vault.yml')) as f:
        vault_names = set(yaml.safe_load(f))
    leaked = [k for g, v in data.items() if g != '_meta' for k, val in (v.get('vars') or {}).items()
              if any(s in str(val) for s in SECRET_VALUES_LAB) and k not in vault_names]
    assert leaked == []


def test_the_example_inventory_imports_without_a_vault_password(tmp_path):
    """inventories/example keeps its secrets as values encrypted one by one (encrypt_string), so
    the file is plain YAML and AWX's import needs no vault password (a whole-file vault is the
    classic ansible/awx#110 failure); the values stay encrypted in what AWX stores."""
    proc = inventory_export(os.path.join(ROOT, 'inventories', 'example'), tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    for group in ('cluster', 'gpu_nodes', 'su1', 'su2', 'leaf_switches', 'spine_switches', 'storage_nodes'):
        assert group in data, group
    assert data['all']['vars']['cluster_bmc_password'] == '{{ vault_cluster_bmc_password }}'
    secret = data['all']['vars']['vault_cluster_bmc_password']
    assert list(secret) == ['__ansible_vault'] and secret['__ansible_vault'].startswith('$ANSIBLE_VAULT;1.1;AES256')
    with open(os.path.join(ROOT, 'inventories', 'example', '.vault-pass.example')) as f:
        assert f.read().strip() not in proc.stdout


def test_the_credential_types_inject_what_the_inventories_read(tmp_path):
    """The pack's extra vars, given as AWX injects them, resolve the example inventory's secrets."""
    pack = load_pack()
    injected = {}
    for ctype in pack['controller_credential_types']:
        for var in ctype['injectors'].get('extra_vars', {}):
            injected[var] = 'injected-%s' % var
        assert not ctype['injectors'].get('env')
    # the inventory as it is, encrypted values included, and no vault password: the injected
    # extra vars win, so nothing needs decrypting
    copy = os.path.join(ROOT, 'inventories', 'example')
    extra = os.path.join(str(tmp_path), 'injected.json')
    with open(extra, 'w') as f:
        json.dump(injected, f)
    proc = subprocess.run(['ansible', '-i', copy, 'leaf-su1-01', '-m', 'ansible.builtin.debug', '-e', '@' + extra, '-a',
                           'msg={{ [cluster_bmc_username, cluster_bmc_password, bmc_new_password, ansible_password, '
                           'cluster_install_password_hash] | to_json }}'],
                          cwd=str(tmp_path), capture_output=True, text=True, check=False, timeout=120,
                          env=dict(os.environ, ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default', ANSIBLE_CALLBACK_RESULT_FORMAT='json'))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for value in ('injected-cluster_bmc_username', 'injected-cluster_bmc_password', 'injected-bmc_new_password',
                  'injected-vault_switch_admin_password', 'injected-cluster_install_password_hash'):
        assert value in proc.stdout, (value, proc.stdout)
