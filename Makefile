# Thin wrapper: dependencies, build, demo, tests. The build itself is CMake.
BUILD ?= build
JOBS  ?= $(shell nproc)

.PHONY: all deps build demo test clean
all: build

deps:
	@tools/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@tools/demo.sh $(BUILD)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD)
