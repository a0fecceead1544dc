# Two commands for a fresh clone: `make run` (camrec's main job) and `make test` (the whole suite).
# Both create .venv and install requirements.txt; `make test` also installs the system packages the
# tests drive (Xvfb, xdotool, ffmpeg, ImageMagick, libgl1) with apt-get when run as root on Debian.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The MNIST files beside the repo (this workplace); elsewhere set CAMREC_MNIST_DIR or config data.mnist_dir.
SHARED_MNIST := $(abspath ../shared/data/mnist)
export CAMREC_MNIST_DIR ?= $(if $(wildcard $(SHARED_MNIST)),$(SHARED_MNIST),)
SYSTEM_PACKAGES := libgl1 libglib2.0-0 xvfb xauth xdotool x11-utils imagemagick ffmpeg

.PHONY: run test setup system-packages lint train clean

run: setup
	$(BIN)/python -m camrec.start

test: system-packages setup
	$(BIN)/python -m pytest -q

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	$(BIN)/python -m compileall -q camrec  # as pip leaves an installed package: no compiling at each start
	touch $@

system-packages:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
		if [ -n "$$missing" ]; then \
			echo "installing system packages: $$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		fi; \
	else echo "not root on Debian: install $(SYSTEM_PACKAGES) yourself if tests need them"; fi

lint: setup
	$(BIN)/ruff check camrec tests benchmarks train.py

train: setup
	$(BIN)/python train.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
