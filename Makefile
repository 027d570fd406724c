# SPDX-License-Identifier: GPL-3.0-or-later
# Quick start: `make demo` and `make test`. Everything is installed into .venv by these targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(CURDIR)/$(VENV)/bin
# The collection is made importable as ansible_collections.privatelink.azure through a symlink,
# so playbooks and tests always run the working tree.
COLLECTIONS_DIR := $(CURDIR)/.build/collections
COLLECTION_LINK := $(COLLECTIONS_DIR)/ansible_collections/privatelink/azure
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS_DIR)
export PYTHONDONTWRITEBYTECODE := 1

# mk/*.mk files add their own targets and append to these lists.
TEST_TARGETS := test-emulator test-unit test-e2e

.PHONY: all venv collection env demo test test-emulator test-unit test-e2e clean
all: test

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

collection: $(COLLECTION_LINK)
$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

# Use the collection from this clone in your own shell: eval "$$(make -s env)", then ansible-doc,
# ansible-playbook and the emulator's armemu command find it (README, "Working from a clone").
env: venv collection
	@echo 'export ANSIBLE_COLLECTIONS_PATH="$(COLLECTIONS_DIR)"'
	@echo 'export PATH="$(BIN):$$PATH"'

demo: venv collection
	$(BIN)/python tools/demo.py

test-emulator: venv
	$(BIN)/python -m pytest -q tests/emulator/tests

test-unit: venv collection
	$(BIN)/python -m pytest -q tests/unit

test-e2e: venv collection
	$(BIN)/python -m pytest -q tests/e2e

-include mk/*.mk

test: $(TEST_TARGETS)

clean:
	rm -rf .build tests/output
