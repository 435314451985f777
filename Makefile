# Two commands: `make demo` and `make test`. Each sets itself up (venv, pinned install, default model) and a second
# run reuses all of it.
#
# GPU users: pick the torch build with TORCH_SPEC, e.g.
#   make demo TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128 --extra-index-url https://pypi.org/simple"

PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.clintune-installed
DEFAULT_MODEL := smollm2-135m-instruct
# Two test processes: most tests wait on a subprocess importing torch (one core), so two keep both cores busy. Whole
# files go to one worker, so a module's fixtures (a trained run, a server) are built once.
TEST_WORKERS ?= 2

export HF_HUB_DISABLE_TELEMETRY := 1
export DO_NOT_TRACK := 1
# Nothing clintune runs here needs the Hub; say so, so no library waits on a network time-out.
export HF_HUB_OFFLINE ?= 1
# With bytecode writing off (some machines set PYTHONDONTWRITEBYTECODE), every clintune process would compile torch
# and transformers from source on import; the tests start dozens of them.
export PYTHONDONTWRITEBYTECODE :=

.PHONY: demo test install model lint lock clean gpu-check gpu-wheels docs

demo: $(STAMP) model
	$(BIN)/clintune demo

test: $(STAMP) model
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=15

install: $(STAMP)

# One pip command installs torch (pinned by TORCH_SPEC) together with every other pinned package, so no unpinned
# torch requirement can pull a multi-GB CUDA build.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check $(TORCH_SPEC) -r requirements.lock -e .
	echo "$(TORCH_SPEC)" > $(STAMP)

model: $(STAMP)
	@$(BIN)/clintune models fetch $(DEFAULT_MODEL)

# On a GPU machine (no venv needed: it uses the machine's own torch): CUDA tests, memory measured on CUDA, and the
# throughput benchmark, in under 8 minutes. Where the machine has no registry, carry the wheels it lacks in .whl/
# (`make gpu-wheels` here, on a machine with one).
gpu-check:
	benchmarks/gpu_check.sh

GPU_WHEELS := trl==1.16.0 bitsandbytes==0.50.2 liger-kernel==0.8.5 transformers==5.23.0 peft==0.21.2 \
	datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19 pydantic==2.14.3 pydantic_core==2.50.4 annotated-types==0.8.0 \
	typing-inspection==0.4.5
GPU_PYTHON ?= 3.12
gpu-wheels:
	$(PYTHON) -m pip download --quiet --no-deps --only-binary=:all: --python-version $(GPU_PYTHON) --implementation cp \
	  --platform manylinux_2_28_x86_64 --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 \
	  --platform manylinux2014_x86_64 -d .whl $(GPU_WHEELS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

# The documentation site (mkdocs.yml, docs/) into site/, offline; any warning fails the build. The variable silences
# mkdocs-material's end-of-life notice, which would otherwise print on every build.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# Re-pin everything after changing a version in requirements.lock by hand.
lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v -E '^(torch|clintune)[=@ ]' > requirements.lock.new
	( head -2 requirements.lock; cat requirements.lock.new ) > requirements.lock.tmp && mv requirements.lock.tmp requirements.lock
	rm -f requirements.lock.new

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
