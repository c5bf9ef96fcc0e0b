# Two commands do everything (see README):
#   make run    create the environment, find the data, execute every notebook from saved weights, rebuild the PDFs
#   make test   the whole test suite: unit tests + strict nbval of every notebook + saved-model checks; the decision
#               notebooks (06, 10) once more with another CPU family's arithmetic; and the check that the suite left
#               every tracked file unchanged
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
# the notebooks whose outputs are decisions (thresholds, the rule file and its version): checked a second time with
# oneDNN limited to SSE4.1 kernels, whose float32 sums differ from AVX2's and AVX-512's in the 7th digit
DECISION_NOTEBOOKS := notebooks/06_error_analysis.ipynb notebooks/10_deployment.ipynb notebooks/11_real_photos.ipynb
OTHER_CPU := ONEDNN_MAX_CPU_ISA=SSE41

.PHONY: setup run test unit notebooks-check clean reports report colab-links

$(BIN)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)" > /dev/null
	touch $@

setup: $(BIN)/.installed

run: setup
	$(BIN)/python -m helpers.run_notebooks
	$(BIN)/python -m helpers.report flowers
	$(BIN)/python -m helpers.report management

test: setup
	$(BIN)/python tools/tree_state.py save data/.tree_before_test.json
	$(BIN)/python -m pytest tests notebooks $(NBVAL)
	$(OTHER_CPU) $(BIN)/python -m pytest $(DECISION_NOTEBOOKS) $(NBVAL)
	$(BIN)/python tools/tree_state.py check data/.tree_before_test.json

reports: setup
	$(BIN)/python -m helpers.report flowers

report: setup
	$(BIN)/python -m helpers.report management

unit: setup
	$(BIN)/python -m pytest tests

# the repository's address ([project.urls] in pyproject.toml) -> the notebooks' Colab badges, README's badge
# table and the address each set-up cell clones in Colab; `tools/colab_links.py --check` only checks
colab-links: setup
	$(BIN)/python tools/colab_links.py

clean:
	rm -rf $(VENV) data/checkpoints data/cache
