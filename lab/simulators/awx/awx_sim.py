"""A test double of the AWX / Automation Controller REST API (v2), for the AWX pack.

Serves what the awx.awx modules the pack uses call (organization, label, project,
credential_type, credential, inventory, inventory_source, job_template,
workflow_job_template, workflow_job_template_node and the controller_api lookup), under
both /api/v2/ and /api/controller/v2/, with AWX's list shape (count, next, previous,
results), filters (?name=, ?or__id=, ?labels__name= ...), PATCH, DELETE, sub-list
association (POST {id} / {id, disassociate}), survey_spec, approval nodes and tokens.

It ports AWX's own validation and replies with AWX's messages and 400 shapes:
  - survey specs: awx/api/views JobTemplateSurveySpec._validate_spec_data (fields, types,
    defaults vs type, choices, one default for multiplechoice, $encrypted$); password
    defaults are shown as $encrypted$, as display_survey_spec does;
  - credential types: awx/main/fields.py CredentialTypeInputField / CredentialTypeInjectorField
    (field ids, types, defaults, no ANSIBLE_* or blocked env injectors, injector templates
    that reference undefined fields) and the serializer's kind rule (custom: cloud or net);
    a field without a type becomes a string, as AWX stores it;
  - job templates: one credential per credential type, allowed credential kinds, the
    playbook must be one of the project's, an inventory or a prompt for it;
  - workflow nodes: the template must exist, prompts the template does not accept are
    refused, links stay in one workflow, no node is two kinds of child of one parent, no cycle.

State is in memory; --state FILE loads it at start and saves it after each change.
GET /_sim/requests returns every write request (method, path, body); DELETE empties it.

    python3 awx_sim.py --port 8043 --user admin --password secret --project-dir /path/to/checkout
"""
import argparse
import base64
import copy
import json
import os
import re
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

VERSION = '24.6.1'
PREFIXES = ('/api/controller/v2/', '/api/v2/')
# awx/main/constants.py ENV_BLOCKLIST
ENV_BLOCKLIST = frozenset((
    'VIRTUAL_ENV', 'PATH', 'PYTHONPATH', 'JOB_ID', 'INVENTORY_ID', 'INVENTORY_SOURCE_ID', 'INVENTORY_UPDATE_ID',
    'AD_HOC_COMMAND_ID', 'REST_API_URL', 'REST_API_TOKEN', 'MAX_EVENT_RES', 'CALLBACK_QUEUE', 'CALLBACK_CONNECTION',
    'CACHE', 'JOB_CALLBACK_DEBUG', 'INVENTORY_HOSTVARS', 'AWX_HOST', 'PROJECT_REVISION', 'SUPERVISOR_CONFIG_PATH',
))
VARIABLE = re.compile(r'^[a-zA-Z_]+[a-zA-Z0-9_]*$')
# in AWX's order (JobTemplateSurveySpec.ALLOWED_TYPES): its message lists them so
SURVEY_TYPES = {'text': str, 'textarea': str, 'password': str, 'multiplechoice': str, 'multiselect': str,
                'integer': int, 'float': float}
ENCRYPTED = '$encrypted$'
# resource -> (type name, verbose name, scoped by organization)
RESOURCES = {
    'organizations': ('organization', 'Organization', False),
    'labels': ('label', 'Label', True),
    'projects': ('project', 'Project', True),
    'project_updates': ('project_update', 'Project update', None),
    'credential_types': ('credential_type', 'Credential type', False),
    'credentials': ('credential', 'Credential', True),
    'inventories': ('inventory', 'Inventory', True),
    'inventory_sources': ('inventory_source', 'Inventory source', None),
    'job_templates': ('job_template', 'Job template', True),
    'workflow_job_templates': ('workflow_job_template', 'Workflow job template', True),
    'workflow_job_template_nodes': ('workflow_job_template_node', 'Workflow job template node', None),
    'workflow_approval_templates': ('workflow_approval_template', 'Workflow approval template', None),
    'execution_environments': ('execution_environment', 'Execution environment', False),
    'instance_groups': ('instance_group', 'Instance group', False),
    'notification_templates': ('notification_template', 'Notification template', True),
    'users': ('user', 'User', None),
    'teams': ('team', 'Team', True),
}
# sub-lists that associate existing objects: (parent resource, relation) -> child resource
ASSOCIATIONS = {}
for _parent in ('job_templates', 'workflow_job_templates', 'workflow_job_template_nodes'):
    ASSOCIATIONS[(_parent, 'labels')] = 'labels'
for _parent in ('job_templates', 'workflow_job_template_nodes'):
    ASSOCIATIONS[(_parent, 'credentials')] = 'credentials'
    ASSOCIATIONS[(_parent, 'instance_groups')] = 'instance_groups'
for _parent in ('organizations', 'inventories'):
    ASSOCIATIONS[(_parent, 'instance_groups')] = 'instance_groups'
ASSOCIATIONS[('organizations', 'galaxy_credentials')] = 'credentials'
for _rel in ('started', 'success', 'error', 'approvals'):
    for _parent in ('job_templates', 'workflow_job_templates', 'organizations', 'projects', 'inventory_sources'):
        ASSOCIATIONS[(_parent, 'notification_templates_' + _rel)] = 'notification_templates'
for _rel in ('success_nodes', 'failure_nodes', 'always_nodes'):
    ASSOCIATIONS[('workflow_job_template_nodes', _rel)] = 'workflow_job_template_nodes'
# node prompt -> the ask_ flag of its template (awx LaunchConfigurationBaseSerializer)
NODE_PROMPTS = {
    'job_type': 'ask_job_type_on_launch', 'limit': 'ask_limit_on_launch', 'job_tags': 'ask_tags_on_launch',
    'skip_tags': 'ask_skip_tags_on_launch', 'diff_mode': 'ask_diff_mode_on_launch', 'inventory': 'ask_inventory_on_launch',
    'verbosity': 'ask_verbosity_on_launch', 'forks': 'ask_forks_on_launch', 'job_slice_count': 'ask_job_slice_count_on_launch',
    'timeout': 'ask_timeout_on_launch', 'execution_environment': 'ask_execution_environment_on_launch',
    'scm_branch': 'ask_scm_branch_on_launch',
}
UJT_RESOURCES = ('job_templates', 'workflow_job_templates', 'projects', 'inventory_sources', 'workflow_approval_templates')


class Invalid(Exception):
    """A 400 reply with AWX's body."""

    def __init__(self, body, status=400):
        Exception.__init__(self, json.dumps(body))
        self.body = body
        self.status = status


def _scan_playbooks(project_dir):
    """Playbooks AWX would list for the project: .yml/.yaml files with a play (hosts: or import_playbook)."""
    found = []
    if not project_dir:
        return found
    for top in ('playbooks', 'extensions'):
        for dirpath, _dirs, files in os.walk(os.path.join(project_dir, top)):
            for name in sorted(files):
                if name.endswith(('.yml', '.yaml')):
                    path = os.path.join(dirpath, name)
                    with open(path, errors='replace') as f:
                        text = f.read()
                    if re.search(r'^\s*-?\s*(hosts|import_playbook|ansible\.builtin\.import_playbook):', text, re.M):
                        found.append(os.path.relpath(path, project_dir))
    return sorted(found)


# ---------------------------------------------------------------- ported validation rules

def validate_survey_spec(new_spec, old_spec):
    """awx/api/views JobTemplateSurveySpec._validate_spec_data; returns the spec to store."""
    new_spec = copy.deepcopy(new_spec)
    if not isinstance(new_spec, dict):
        raise Invalid({'error': "Expected dict for survey spec, received %s type." % type(new_spec).__name__})
    error = None
    for field, expect, label in (('name', str, 'string'), ('description', str, 'string'), ('spec', list, 'list of items')):
        if field not in new_spec:
            error = "Field '{}' is missing from survey spec.".format(field)
        elif not isinstance(new_spec[field], expect):
            error = "Expected {} for field '{}', received {} type.".format(label, field, type(new_spec[field]).__name__)
    if isinstance(new_spec.get('spec'), list) and len(new_spec['spec']) < 1:
        error = "'spec' doesn't contain any items."
    if error:
        raise Invalid({'error': error})
    old = dict((q.get('variable'), q) for q in (old_spec or {}).get('spec', []) if isinstance(q, dict))
    variables = set()
    for idx, item in enumerate(new_spec['spec']):
        idx = str(idx)
        if not isinstance(item, dict):
            raise Invalid({'error': "Survey question %s is not a json object." % idx})
        for field in ('type', 'question_name', 'variable', 'required'):
            if field not in item:
                raise Invalid({'error': "'{}' missing from survey question {}".format(field, idx)})
            allow, label = (bool, 'boolean') if field == 'required' else (str, 'string')
            if not isinstance(item[field], allow):
                raise Invalid({'error': "'{}' in survey question {} expected to be {}.".format(field, idx, label)})
        if item['variable'] in variables:
            raise Invalid({'error': "'variable' '%s' duplicated in survey question %s." % (item['variable'], idx)})
        variables.add(item['variable'])
        qtype = item['type']
        if qtype not in SURVEY_TYPES:
            raise Invalid({'error': "'{}' in survey question {} is not one of '{}' allowed question types.".format(
                qtype, idx, ', '.join(SURVEY_TYPES))})
        if 'default' in item and item['default'] != '':
            wanted = SURVEY_TYPES[qtype]
            if not isinstance(item['default'], wanted) or (wanted is int and isinstance(item['default'], bool)):
                label = qtype if qtype in ('integer', 'float') else 'string'
                raise Invalid({'error': "Default value {} in survey question {} expected to be {}.".format(item['default'], idx, label)})
        for key in ('min', 'max'):
            if key in item and item[key] is not None and not isinstance(item[key], int):
                raise Invalid({'error': "The {} limit in survey question {} expected to be integer.".format(key, idx)})
        if qtype in ('multiselect', 'multiplechoice'):
            if 'choices' not in item:
                raise Invalid({'error': "Survey question {} of type {} must specify choices.".format(idx, qtype)})
            if isinstance(item['choices'], str):
                item['choices'] = '\n'.join(c for c in item['choices'].splitlines() if c.strip() != '')
            if 'default' in item:
                if isinstance(item['default'], str):
                    item['default'] = '\n'.join(c for c in item['default'].splitlines() if c.strip() != '')
                    defaults = item['default'].splitlines()
                else:
                    defaults = item['default']
                if qtype == 'multiplechoice' and len(defaults) > 1:
                    raise Invalid({'error': "Multiple Choice (Single Select) can only have one default value."})
                if any(d not in item['choices'] for d in defaults):
                    raise Invalid({'error': "Default choice must be answered from the choices listed."})
        if isinstance(item.get('default'), str) and item['default'].startswith(ENCRYPTED):
            if qtype != 'password':
                raise Invalid({'error': "$encrypted$ is a reserved keyword for password question defaults, "
                                        "survey question {} is type {}.".format(idx, qtype)})
            previous = old.get(item['variable'], {})
            if not (isinstance(previous.get('default'), str)):
                raise Invalid({'error': "$encrypted$ is a reserved keyword, may not be used for new default in position {}.".format(idx)})
            item['default'] = previous['default']
    return new_spec


def display_survey_spec(spec):
    """What GET survey_spec shows: password defaults as $encrypted$ (display_survey_spec)."""
    shown = copy.deepcopy(spec or {})
    for item in shown.get('spec', []):
        if item.get('type') == 'password' and item.get('default'):
            item['default'] = ENCRYPTED
    return shown


def validate_credential_type(data):
    """awx CredentialTypeSerializer + CredentialTypeInputField + CredentialTypeInjectorField."""
    errors = {}
    kind = data.get('kind', 'cloud')
    if kind not in ('cloud', 'net'):
        errors['kind'] = ["Must be 'cloud' or 'net', not %s" % kind]
    inputs = data.get('inputs') or {}
    injectors = data.get('injectors') or {}
    try:
        _validate_ct_inputs(inputs)
    except Invalid as exc:
        errors['inputs'] = exc.body
    else:
        try:
            _validate_ct_injectors(injectors, [f['id'] for f in inputs.get('fields', [])])
        except Invalid as exc:
            errors['injectors'] = exc.body
    if errors:
        raise Invalid(errors)


def _validate_ct_inputs(inputs):
    if not isinstance(inputs, dict):
        raise Invalid(["%r is not of type 'object'" % (inputs,)])
    if 'dependencies' in inputs:
        raise Invalid(["'dependencies' is not supported for custom credentials."])
    extra = sorted(set(inputs) - set(('fields', 'required')))
    if extra:
        raise Invalid(["Additional properties are not allowed (%s %s unexpected)"
                       % (', '.join(repr(e) for e in extra), 'was' if len(extra) == 1 else 'were')])
    ids = set()
    allowed = set(('type', 'format', 'choices', 'id', 'label', 'help_text', 'multiline', 'secret', 'ask_at_runtime', 'default'))
    for field in inputs.get('fields', []):
        for key in ('id', 'label'):
            if key not in field:
                raise Invalid(["'%s' is a required property" % key])
        unexpected = sorted(set(field) - allowed)
        if unexpected:
            raise Invalid(["Additional properties are not allowed (%s %s unexpected)"
                           % (', '.join(repr(e) for e in unexpected), 'was' if len(unexpected) == 1 else 'were')])
        if not VARIABLE.match(str(field['id'])):
            raise Invalid(['%s is an invalid variable name' % field['id']])
        if field.get('type', 'string') not in ('string', 'boolean'):
            raise Invalid(["%r is not one of ['string', 'boolean']" % field['type']])
        if field['id'] == 'tower':
            raise Invalid(['"tower" is a reserved field name'])
        if field['id'] in ids:
            raise Invalid(['field IDs must be unique (%s)' % field['id']])
        ids.add(field['id'])
        field.setdefault('type', 'string')  # AWX stores a field without type as a string
        if 'default' in field:
            wanted = {'string': str, 'boolean': bool}[field['type']]
            if type(field['default']) is not wanted:  # pylint: disable=unidiomatic-typecheck
                raise Invalid(['{} is not a {}'.format(field['default'], field['type'])])
        for key in ('choices', 'multiline', 'format', 'secret'):
            if key in field and field['type'] != 'string':
                raise Invalid(['{} not allowed for {} type ({})'.format(key, field['type'], field['id'])])


_REFERENCE = re.compile(r'{{-?\s*([A-Za-z_][A-Za-z0-9_]*)')


def _validate_ct_injectors(injectors, field_ids):
    if not isinstance(injectors, dict):
        raise Invalid(["%r is not of type 'object'" % (injectors,)])
    extra = sorted(set(injectors) - set(('file', 'env', 'extra_vars')))
    if extra:
        raise Invalid(["Additional properties are not allowed (%s %s unexpected)"
                       % (', '.join(repr(e) for e in extra), 'was' if len(extra) == 1 else 'were')])
    for kind in ('env', 'extra_vars'):
        for key, tmpl in (injectors.get(kind) or {}).items():
            if not VARIABLE.match(key):
                raise Invalid(["Additional properties are not allowed (%r was unexpected)" % key])
            if not isinstance(tmpl, str):
                raise Invalid(["%r is not of type 'string'" % (tmpl,)])
    for key in (injectors.get('env') or {}):
        if key.startswith('ANSIBLE_'):
            raise Invalid(['Environment variable {} may affect Ansible configuration so its '
                           'use is not allowed in credentials.'.format(key)])
        if key in ENV_BLOCKLIST:
            raise Invalid(['Environment variable {} is not allowed to be used in credentials.'.format(key)])
    known = set(field_ids) | set(('tower',))
    for kind, values in injectors.items():
        for key, tmpl in (values or {}).items():
            for name in _REFERENCE.findall(str(tmpl)):
                if name not in known:
                    raise Invalid(["{} uses an undefined field ('{}' is undefined)".format(key, name)])


# ---------------------------------------------------------------- the store

class Store(object):
    def __init__(self, user, password, project_dir=None, state_file=None):
        self.user, self.password = user, password
        self.playbooks = _scan_playbooks(project_dir)
        self.state_file = state_file
        self.lock = threading.RLock()
        self.requests = []
        self.tokens = {}
        self.objects = dict((r, {}) for r in RESOURCES)
        self.links = {}  # "resource:id:relation" -> [ids]
        self.surveys = {}  # "resource:id" -> spec
        self.next_id = 1
        if state_file and os.path.exists(state_file):
            with open(state_file) as f:
                saved = json.load(f)
            self.objects = dict((r, dict((int(k), v) for k, v in saved['objects'].get(r, {}).items())) for r in RESOURCES)
            self.links, self.surveys, self.next_id = saved['links'], saved['surveys'], saved['next_id']
        if not self.objects['instance_groups']:
            self.create('instance_groups', {'name': 'default'})
            self.create('instance_groups', {'name': 'controlplane'})

    def save(self):
        if self.state_file:
            with open(self.state_file + '.tmp', 'w') as f:
                json.dump({'objects': self.objects, 'links': self.links, 'surveys': self.surveys, 'next_id': self.next_id}, f)
            os.replace(self.state_file + '.tmp', self.state_file)

    def create(self, resource, data):
        obj = dict(data)
        obj['id'] = self.next_id
        self.next_id += 1
        self.objects[resource][obj['id']] = obj
        return obj

    def get(self, resource, pk):
        try:
            return self.objects[resource].get(int(pk))
        except (TypeError, ValueError):
            return None

    def linked(self, resource, pk, relation):
        return self.links.setdefault('%s:%s:%s' % (resource, pk, relation), [])

    def find_ujt(self, pk):
        for resource in UJT_RESOURCES:
            obj = self.get(resource, pk)
            if obj is not None:
                return resource, obj
        return None, None


def _url(prefix, resource, pk=None, rest=''):
    return '%s%s/%s%s' % (prefix, resource, '' if pk is None else '%s/' % pk, rest)


class Handler(BaseHTTPRequestHandler):
    server_version = 'awx-sim/' + VERSION
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):  # quiet unless asked
        if self.server.verbose:
            sys.stderr.write('awx-sim: ' + fmt % args + '\n')

    # -- plumbing
    def _reply(self, status, body=None):
        data = b'' if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.send_header('X-API-Product-Name', 'AWX')
        self.send_header('X-API-Product-Version', VERSION)
        self.end_headers()
        if data:
            self.wfile.write(data)

    def _body(self):
        length = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(length) if length else b''
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise Invalid({'detail': 'JSON parse error - Expecting value: line 1 column 1 (char 0)'})

    def _authorized(self):
        auth = self.headers.get('Authorization', '')
        if auth.startswith('Bearer '):
            return auth[7:] in self.server.store.tokens
        if auth.startswith('Basic '):
            try:
                user, _sep, password = base64.b64decode(auth[6:]).decode().partition(':')
            except ValueError:
                return False
            return (user, password) == (self.server.store.user, self.server.store.password)
        return False

    def do_GET(self):
        self._dispatch('GET')

    def do_POST(self):
        self._dispatch('POST')

    def do_PATCH(self):
        self._dispatch('PATCH')

    def do_PUT(self):
        self._dispatch('PATCH')

    def do_DELETE(self):
        self._dispatch('DELETE')

    def do_HEAD(self):
        self._dispatch('GET')

    def _dispatch(self, method):
        split = urlsplit(self.path)
        path, query = split.path, parse_qsl(split.query, keep_blank_values=True)
        store = self.server.store
        try:
            body = self._body() if method in ('POST', 'PATCH') else None
            if path.startswith('/_sim/'):
                return self._sim(method, path)
            if path in ('/api/', '/api/controller/'):
                return self._reply(200, {'current_version': path + 'v2/', 'available_versions': {'v2': path + 'v2/'}})
            prefix = next((p for p in PREFIXES if path.startswith(p)), None)
            if prefix is None:
                return self._reply(404, {'detail': 'Not found.'})
            parts = [p for p in path[len(prefix):].split('/') if p]
            if parts == ['ping'] or parts == []:
                return self._reply(200, {'ha': False, 'version': VERSION, 'active_node': 'awx-sim', 'instances': []})
            if not self._authorized():
                return self._reply(401, {'detail': 'Authentication credentials were not provided.'})
            with store.lock:
                if method in ('POST', 'PATCH', 'DELETE') and parts[0] != 'tokens':
                    store.requests.append({'method': method, 'path': '/' + '/'.join(parts) + '/', 'body': body})
                status, reply = self._route(method, prefix, parts, query, body)
                if method in ('POST', 'PATCH', 'DELETE') and status < 400:
                    store.save()
            return self._reply(status, reply)
        except Invalid as exc:
            return self._reply(exc.status, exc.body)

    def _sim(self, method, path):
        store = self.server.store
        with store.lock:
            if path == '/_sim/requests':
                if method == 'DELETE':
                    del store.requests[:]
                    return self._reply(204)
                return self._reply(200, store.requests)
            if path == '/_sim/state':
                return self._reply(200, {'objects': store.objects, 'links': store.links, 'surveys': store.surveys})
        return self._reply(404, {'detail': 'Not found.'})

    # -- routes
    def _route(self, method, prefix, parts, query, body):
        store = self.server.store
        head = parts[0]
        if head == 'me':
            return 200, {'count': 1, 'next': None, 'previous': None,
                         'results': [{'id': 1, 'type': 'user', 'username': store.user, 'is_superuser': True}]}
        if head == 'config':
            return 200, {'version': VERSION, 'license_info': {'license_type': 'open'}, 'project_local_paths': []}
        if head == 'tokens':
            if method == 'POST' and len(parts) == 1:
                token = uuid.uuid4().hex
                pk = len(store.tokens) + 1
                store.tokens[token] = pk
                return 201, {'id': pk, 'token': token, 'type': 'o_auth2_access_token'}
            if method == 'DELETE' and len(parts) == 2:
                for token, pk in list(store.tokens.items()):
                    if str(pk) == parts[1]:
                        del store.tokens[token]
                return 204, None
            return 405, {'detail': 'Method "%s" not allowed.' % method}
        if head == 'unified_job_templates' and len(parts) == 1 and method == 'GET':
            items = []
            for resource in UJT_RESOURCES:
                items.extend(self._show(prefix, resource, o) for o in store.objects[resource].values())
            return 200, self._page(prefix, parts, sorted(items, key=lambda o: o['id']), query)
        if head not in RESOURCES:
            return 404, {'detail': 'Not found.'}
        resource = head
        if len(parts) == 1:
            if method == 'GET':
                items = [self._show(prefix, resource, o) for o in sorted(store.objects[resource].values(), key=lambda o: o['id'])]
                return 200, self._page(prefix, parts, items, query)
            if method == 'POST':
                obj = self._create(resource, body)
                return 201, self._show(prefix, resource, obj)
            return 405, {'detail': 'Method "%s" not allowed.' % method}
        obj = store.get(resource, parts[1])
        if obj is None:
            return 404, {'detail': 'Not found.'}
        if len(parts) == 2:
            if method == 'GET':
                return 200, self._show(prefix, resource, obj)
            if method == 'PATCH':
                self._update(resource, obj, body)
                return 200, self._show(prefix, resource, obj)
            if method == 'DELETE':
                self._delete(resource, obj)
                return 204, None
        sub = parts[2]
        if sub == 'survey_spec' and resource in ('job_templates', 'workflow_job_templates'):
            key = '%s:%s' % (resource, obj['id'])
            if method == 'GET':
                return 200, display_survey_spec(store.surveys.get(key, {}))
            if method == 'POST':
                store.surveys[key] = validate_survey_spec(body, store.surveys.get(key))
                return 200, None
            if method == 'DELETE':
                store.surveys[key] = {}
                return 200, None
        if sub == 'create_approval_template' and resource == 'workflow_job_template_nodes' and method == 'POST':
            approval = store.create('workflow_approval_templates', {
                'name': body.get('name', ''), 'description': body.get('description', ''), 'timeout': body.get('timeout', 0)})
            obj['unified_job_template'] = approval['id']
            return 201, self._show(prefix, 'workflow_approval_templates', approval)
        if sub == 'update' and resource == 'projects' and method == 'POST':
            update = self._project_update(obj)
            return 202, dict(self._show(prefix, 'project_updates', update), project_update=update['id'])
        if sub == 'workflow_nodes' and resource == 'workflow_job_templates' and method == 'GET':
            nodes = [self._show(prefix, 'workflow_job_template_nodes', n)
                     for n in store.objects['workflow_job_template_nodes'].values() if n.get('workflow_job_template') == obj['id']]
            return 200, self._page(prefix, parts, nodes, query)
        if (resource, sub) in ASSOCIATIONS:
            child_resource = ASSOCIATIONS[(resource, sub)]
            ids = store.linked(resource, obj['id'], sub)
            if method == 'GET':
                items = [self._show(prefix, child_resource, store.get(child_resource, i)) for i in ids if store.get(child_resource, i)]
                return 200, self._page(prefix, parts, items, query)
            if method == 'POST':
                return self._associate(resource, obj, sub, child_resource, body)
        return 404, {'detail': 'Not found.'}

    def _page(self, prefix, parts, items, query):
        filters = [(k, v) for k, v in query if k not in ('page', 'page_size', 'order_by')]
        plain = [(k, v) for k, v in filters if not k.startswith('or__')]
        alternatives = [(k[4:], v) for k, v in filters if k.startswith('or__')]
        chosen = [o for o in items if all(self._matches(o, k, v) for k, v in plain)
                  and (not alternatives or any(self._matches(o, k, v) for k, v in alternatives))]
        params = dict(query)
        size = int(params.get('page_size', 25) or 25)
        page = int(params.get('page', 1) or 1)
        start = (page - 1) * size
        rest = [(k, v) for k, v in query if k != 'page']

        def link(n):
            from urllib.parse import urlencode  # pylint: disable=import-outside-toplevel
            return '%s%s/?%s' % (prefix, '/'.join(parts), urlencode(rest + [('page', n)]))
        return {'count': len(chosen), 'next': link(page + 1) if start + size < len(chosen) else None,
                'previous': link(page - 1) if page > 1 else None, 'results': chosen[start:start + size]}

    @staticmethod
    def _matches(obj, key, value):
        if key == 'labels__name':
            return value in [lab['name'] for lab in obj.get('summary_fields', {}).get('labels', {}).get('results', [])]
        if key.endswith('__startswith'):
            return str(obj.get(key[:-12], '')).startswith(value)
        if key.endswith('__icontains'):
            return value.lower() in str(obj.get(key[:-11], '')).lower()
        have = obj.get(key)
        if value in ('None', 'null', ''):
            return have in (None, '')
        if isinstance(have, bool):
            return str(have).lower() == value.lower()
        return str(have) == value

    # -- representation
    def _show(self, prefix, resource, obj):
        store = self.server.store
        type_name = RESOURCES[resource][0]
        out = dict(obj)
        out['type'] = type_name
        out['url'] = _url(prefix, resource, obj['id'])
        related = {}
        summary = {}
        for field, target in (('organization', 'organizations'), ('project', 'projects'), ('inventory', 'inventories'),
                              ('credential_type', 'credential_types'), ('workflow_job_template', 'workflow_job_templates'),
                              ('source_project', 'projects'), ('execution_environment', 'execution_environments'),
                              ('default_environment', 'execution_environments')):
            if out.get(field):
                related[field] = _url(prefix, target, out[field])
                ref = store.get(target, out[field])
                if ref is not None:
                    summary[field] = {'id': ref['id'], 'name': ref.get('name')}
        if resource == 'workflow_job_template_nodes' and out.get('unified_job_template'):
            ujt_resource, ujt = store.find_ujt(out['unified_job_template'])
            if ujt is not None:
                related['unified_job_template'] = _url(prefix, ujt_resource, ujt['id'])
                summary['unified_job_template'] = {'id': ujt['id'], 'name': ujt.get('name'), 'unified_job_type': RESOURCES[ujt_resource][0]}
        for (parent, relation) in ASSOCIATIONS:
            if parent == resource:
                related[relation] = _url(prefix, resource, obj['id'], relation + '/')
                if resource == 'workflow_job_template_nodes' and relation.endswith('_nodes'):
                    out[relation] = list(store.linked(resource, obj['id'], relation))
        if resource in ('job_templates', 'workflow_job_templates'):
            related['survey_spec'] = _url(prefix, resource, obj['id'], 'survey_spec/')
            labels = [store.get('labels', i) for i in store.linked(resource, obj['id'], 'labels')]
            summary['labels'] = {'count': len(labels), 'results': [{'id': lab['id'], 'name': lab['name']} for lab in labels if lab]}
        if resource == 'job_templates':
            creds = [store.get('credentials', i) for i in store.linked(resource, obj['id'], 'credentials')]
            summary['credentials'] = [{'id': c['id'], 'name': c['name'], 'kind': self._kind(c)} for c in creds if c]
        if resource == 'workflow_job_templates':
            related['workflow_nodes'] = _url(prefix, resource, obj['id'], 'workflow_nodes/')
        if resource == 'workflow_job_template_nodes':
            related['create_approval_template'] = _url(prefix, resource, obj['id'], 'create_approval_template/')
        if resource == 'projects':
            related['update'] = _url(prefix, resource, obj['id'], 'update/')
            if obj.get('current_update'):
                summary['current_update'] = {'id': obj['current_update'], 'status': 'successful'}
        if resource == 'credentials':
            ctype = store.get('credential_types', obj.get('credential_type'))
            secret = set(f['id'] for f in (ctype or {}).get('inputs', {}).get('fields', []) if f.get('secret'))
            out['inputs'] = dict((k, ENCRYPTED if k in secret and v else v) for k, v in (obj.get('inputs') or {}).items())
            out['kind'] = self._kind(obj)
        out.pop('current_update', None)
        out['related'] = related
        out['summary_fields'] = summary
        return out

    def _kind(self, credential):
        ctype = self.server.store.get('credential_types', credential.get('credential_type'))
        return (ctype or {}).get('kind', 'cloud')

    # -- writes
    def _check_unique(self, resource, data, pk=None):
        _type, verbose, scoped = RESOURCES[resource]
        if scoped is None or 'name' not in data:
            return
        for other in self.server.store.objects[resource].values():
            if other['id'] == pk or other.get('name') != data['name']:
                continue
            if scoped and other.get('organization') == data.get('organization'):
                raise Invalid({'__all__': ['%s with this Name and Organization already exists.' % verbose]})
            if not scoped:
                raise Invalid({'name': ['%s with this Name already exists.' % verbose]})

    def _check_fk(self, data):
        store = self.server.store
        errors = {}
        for field, target in (('organization', 'organizations'), ('project', 'projects'), ('inventory', 'inventories'),
                              ('credential_type', 'credential_types'), ('workflow_job_template', 'workflow_job_templates'),
                              ('source_project', 'projects'), ('execution_environment', 'execution_environments')):
            value = data.get(field)
            if value not in (None, '') and store.get(target, value) is None:
                errors[field] = ['Invalid pk "%s" - object does not exist.' % value]
        if data.get('unified_job_template') not in (None, ''):
            if store.find_ujt(data['unified_job_template'])[1] is None:
                errors['unified_job_template'] = ['Invalid pk "%s" - object does not exist.' % data['unified_job_template']]
        if errors:
            raise Invalid(errors)

    def _validate(self, resource, data, existing=None):
        store = self.server.store
        merged = dict(existing or {})
        merged.update(data)
        self._check_fk(data)
        self._check_unique(resource, merged, merged.get('id'))
        if resource == 'credential_types':
            validate_credential_type(merged)
            for field in (merged.get('inputs') or {}).get('fields', []):
                field.setdefault('type', 'string')
        if resource == 'credentials':
            ctype = store.get('credential_types', merged.get('credential_type'))
            ids = set(f['id'] for f in (ctype or {}).get('inputs', {}).get('fields', []))
            unknown = sorted(set((data.get('inputs') or {})) - ids)
            if unknown:
                raise Invalid({'inputs': {unknown[0]: ['Additional properties are not allowed (%r was unexpected)' % unknown[0]]}})
        if resource == 'job_templates':
            errors = {}
            if not merged.get('inventory') and not merged.get('ask_inventory_on_launch'):
                errors['inventory'] = ["Job Template must provide 'inventory' or allow prompting for it."]
            if merged.get('project') and store.playbooks and merged.get('playbook') not in store.playbooks:
                errors['playbook'] = ['Playbook not found for project.']
            if int(merged.get('job_slice_count', 1) or 1) < 1:
                errors['job_slice_count'] = ['Ensure this value is greater than or equal to 1.']
            if errors:
                raise Invalid(errors)
        if resource == 'workflow_job_template_nodes':
            ujt_resource, ujt = store.find_ujt(merged.get('unified_job_template'))
            errors = {}
            for field, ask in NODE_PROMPTS.items():
                if data.get(field) not in (None, '') and ujt_resource == 'job_templates' and not ujt.get(ask):
                    if field == 'job_type' and data[field] == ujt.get('job_type', 'run'):
                        continue
                    errors[field] = ['Field is not configured to prompt on launch.']
            if errors:
                raise Invalid(errors)
            identifier = merged.get('identifier')
            for other in store.objects[resource].values():
                if other['id'] != merged.get('id') and other.get('identifier') == identifier \
                        and other.get('workflow_job_template') == merged.get('workflow_job_template'):
                    raise Invalid({'__all__': ['Workflow job template node with this Workflow job template and Identifier already exists.']})
        return merged

    def _create(self, resource, body):
        store = self.server.store
        if resource in ('project_updates', 'workflow_approval_templates'):
            raise Invalid({'detail': 'Method "POST" not allowed.'}, 405)
        data = dict((k, v) for k, v in (body or {}).items() if k not in ('id', 'type', 'url', 'related', 'summary_fields'))
        data = self._validate(resource, data)
        if resource == 'credential_types':
            data.setdefault('kind', 'cloud')
            data.setdefault('managed', False)
        if resource == 'job_templates':
            data.setdefault('job_type', 'run')
            data.setdefault('job_slice_count', 1)
        obj = store.create(resource, data)
        if resource == 'projects' and obj.get('scm_type'):
            obj['current_update'] = self._project_update(obj)['id']
            obj.setdefault('scm_revision', '0' * 40)
            obj['status'] = 'successful'
        return obj

    def _project_update(self, project):
        return self.server.store.create('project_updates', {
            'name': project.get('name'), 'project': project['id'], 'status': 'successful', 'failed': False,
            'finished': '2026-01-01T00:00:00Z', 'scm_revision': project.get('scm_revision', '0' * 40)})

    def _update(self, resource, obj, body):
        data = dict((k, v) for k, v in (body or {}).items() if k not in ('id', 'type', 'url', 'related', 'summary_fields'))
        if resource == 'credentials' and isinstance(data.get('inputs'), dict):
            # $encrypted$ keeps the stored secret (AWX's encrypted-field round trip)
            old = obj.get('inputs') or {}
            data['inputs'] = dict((k, old.get(k) if v == ENCRYPTED else v) for k, v in data['inputs'].items())
        merged = self._validate(resource, data, obj)
        obj.clear()
        obj.update(merged)

    def _delete(self, resource, obj):
        store = self.server.store
        del store.objects[resource][obj['id']]
        store.surveys.pop('%s:%s' % (resource, obj['id']), None)
        for key in [k for k in store.links if k.startswith('%s:%s:' % (resource, obj['id']))]:
            del store.links[key]
        if resource == 'workflow_job_templates':
            for node in [n for n in store.objects['workflow_job_template_nodes'].values() if n.get('workflow_job_template') == obj['id']]:
                self._delete('workflow_job_template_nodes', node)
        if resource in UJT_RESOURCES:
            for node in store.objects['workflow_job_template_nodes'].values():
                if node.get('unified_job_template') == obj['id']:
                    node['unified_job_template'] = None
        if resource == 'workflow_job_template_nodes':
            for key, ids in store.links.items():
                if key.startswith('workflow_job_template_nodes:') and obj['id'] in ids:
                    ids.remove(obj['id'])

    def _associate(self, resource, parent, relation, child_resource, body):
        store = self.server.store
        ids = store.linked(resource, parent['id'], relation)
        sub_id = (body or {}).get('id')
        if sub_id is None:
            raise Invalid({'msg': '"id" field is required.'})
        if body.get('disassociate'):
            if int(sub_id) in ids:
                ids.remove(int(sub_id))
            return 204, None
        sub = store.get(child_resource, sub_id)
        if sub is None:
            model = ''.join(w.capitalize() for w in RESOURCES[child_resource][0].split('_'))
            raise Invalid({'detail': 'No %s matches the given query.' % model})
        if sub['id'] in ids:
            return 204, None
        if relation == 'credentials' and resource == 'job_templates':
            ctype = store.get('credential_types', sub.get('credential_type')) or {}
            for other_id in ids:
                other = store.get('credentials', other_id)
                if other and other.get('credential_type') == sub.get('credential_type'):
                    raise Invalid({'error': 'Cannot assign multiple {} credentials.'.format(ctype.get('name'))})
            kind = ctype.get('kind', 'cloud')
            if kind not in ('ssh', 'vault', 'cloud', 'net', 'kubernetes'):
                raise Invalid({'error': 'Cannot assign a Credential of kind `{}`.'.format(kind)})
        if resource == 'workflow_job_template_nodes' and relation.endswith('_nodes'):
            if sub.get('workflow_job_template') != parent.get('workflow_job_template'):
                raise Invalid({'Error': 'Cannot associate {} when {} is from a different workflow.'.format(relation, sub['id'])})
            if parent['id'] == sub['id']:
                raise Invalid({'Error': 'Cycle detected.'})
            for other in ('success_nodes', 'failure_nodes', 'always_nodes'):
                if other != relation and sub['id'] in store.linked(resource, parent['id'], other):
                    raise Invalid({'Error': 'Relationship not allowed.'})
            ids.append(sub['id'])
            if self._has_cycle(parent.get('workflow_job_template')):
                ids.remove(sub['id'])
                raise Invalid({'Error': 'Cycle detected.'})
            return 204, None
        ids.append(sub['id'])
        return 204, None

    def _has_cycle(self, wfjt_id):
        store = self.server.store
        nodes = [n['id'] for n in store.objects['workflow_job_template_nodes'].values() if n.get('workflow_job_template') == wfjt_id]

        def children(pk):
            out = []
            for rel in ('success_nodes', 'failure_nodes', 'always_nodes'):
                out.extend(store.linked('workflow_job_template_nodes', pk, rel))
            return out
        state = {}

        def visit(pk):
            if state.get(pk) == 1:
                return True
            if state.get(pk) == 2:
                return False
            state[pk] = 1
            if any(visit(c) for c in children(pk)):
                return True
            state[pk] = 2
            return False
        return any(visit(n) for n in nodes)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, store, verbose=False):
        ThreadingHTTPServer.__init__(self, address, Handler)
        self.store = store
        self.verbose = verbose


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=8043, help='0 picks a free port (printed on stdout)')
    parser.add_argument('--user', default='admin')
    parser.add_argument('--password', default='password')
    parser.add_argument('--project-dir', help='the project checkout whose playbooks job templates may name')
    parser.add_argument('--state', help='JSON file: loaded at start if present, saved after each change')
    parser.add_argument('--verbose', action='store_true')
    args = parser.parse_args(argv)
    server = Server((args.host, args.port), Store(args.user, args.password, args.project_dir, args.state), args.verbose)
    print('awx-sim listening on http://%s:%d' % server.server_address[:2], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
