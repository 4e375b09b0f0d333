# aifabric.cluster - the two commands: `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
ROOT := $(CURDIR)
VENV := $(ROOT)/.venv
CACHE := $(ROOT)/.cache
export PATH := $(VENV)/bin:$(PATH)
export CONTAINERS_CONF := $(ROOT)/molecule/lab/containers.conf
export ANSIBLE_CONFIG := $(ROOT)/ansible.cfg
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0
AIFABRIC_LAB_NODES ?= 4
export AIFABRIC_LAB_NODES

# Debian packages the lab and tests need (podman with runc, debootstrap, repo tools)
APT_PACKAGES := podman runc netavark aardvark-dns iptables debootstrap dpkg-dev apt-utils \
  gnupg openssh-client git make rsync python3-venv ca-certificates

.PHONY: help deps venv collection image lab-up lab-down demo test lint sanity unit \
  molecule build install-check bench clean

help:
	@echo "make demo   - create the lab, provision it with playbooks/site.yml, print a summary"
	@echo "make test   - lint, sanity, unit tests and every Molecule scenario, then clean up"
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

# the collection, resolvable by FQCN from this checkout (ansible.cfg collections_path)
collection: venv
	@mkdir -p $(CACHE)/collections/ansible_collections/aifabric
	@ln -sfn ../../../.. $(CACHE)/collections/ansible_collections/aifabric/cluster

image: deps
	bash molecule/lab/image/build.sh
	bash molecule/lab/repo/build-repo.sh

lab-up: deps venv collection
	python3 molecule/lab/lab.py up

lab-down:
	python3 molecule/lab/lab.py down

demo: deps venv collection image
	python3 molecule/lab/lab.py up
	ansible-playbook playbooks/site.yml
	ansible-playbook molecule/lab/summary.yml

lint: venv collection
	ansible-lint --profile production --offline

sanity: venv
	bash tests/sanity/run.sh

# unit tests of the collection's Python, and of the lab's simulators (test side); two
# workers, a test file per worker (the switch and BMC tests spend their time waiting on
# ansible-playbook)
unit: venv collection
	pytest -q -n 2 --dist loadfile tests/unit $$(test -d tests/lab && echo tests/lab)

molecule: deps venv collection image build
	@trap 'python3 molecule/lab/lab.py down' EXIT; mkdir -p $(CACHE)/logs; \
	for s in $$(ls molecule/*/molecule.yml | xargs -n1 dirname | xargs -n1 basename | sort); do \
	  echo "=== molecule scenario $$s"; \
	  if ! molecule test -s $$s 2>&1 | tee $(CACHE)/logs/molecule-$$s.log; then \
	    echo "=== molecule scenario $$s FAILED; what failed (full log: .cache/logs/molecule-$$s.log):"; \
	    grep -n -B1 -A8 -E '^(fatal|failed):|FAILED!|^(E  |FAILED )|unreachable=[1-9]|failed=[1-9]' $(CACHE)/logs/molecule-$$s.log | tail -60; \
	    exit 1; \
	  fi; \
	done

# build the tarball and install it as users do; molecule/default runs site.yml by
# FQCN from this installed copy
build: venv
	@mkdir -p $(CACHE)/build
	@rm -rf $(CACHE)/build/*.tar.gz $(CACHE)/installed
	ansible-galaxy collection build --force --output-path $(CACHE)/build .
	ANSIBLE_COLLECTIONS_PATH=$(CACHE)/installed ansible-galaxy collection install --force --offline --no-deps -p $(CACHE)/installed $(CACHE)/build/aifabric-cluster-*.tar.gz

test: deps venv collection lint sanity unit build molecule
	@echo "make test: all green"

bench: deps venv collection image
	python3 bench/bench.py --nodes 4 16
	python3 bench/bench_gpu_module.py

clean: lab-down
	rm -rf $(CACHE)/build $(CACHE)/collections
