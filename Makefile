# A thin layer over meson/ninja and npm. `make demo` and `make check` set up everything.
PORT ?= 8080
DB ?= var/tongban.db
BUILD ?= build

.PHONY: all deps build build-asan web demo-data demo check bench format clean

all: build web

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

build-asan/build.ninja:
	meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug

build-asan: build-asan/build.ninja
	ninja -C build-asan

web: web/dist/index.html

web/dist/index.html: package.json $(shell find web -path web/dist -prune -o -type f -print 2>/dev/null)
	npm run build --silent

var/demo-catalog.json: tools/demo-catalog.mjs $(wildcard data/catalog/* data/regions/*)
	@mkdir -p var
	node tools/demo-catalog.mjs $@

demo-data: var/demo-catalog.json

demo: deps
	@$(MAKE) --no-print-directory build web demo-data
	$(BUILD)/tongban import catalog var/demo-catalog.json --db sqlite:$(DB)
	$(BUILD)/tongban import people data/demo/people.json --db sqlite:$(DB) --id-registry data/demo/id-registry.json
	$(BUILD)/tongban serve --listen 127.0.0.1:$(PORT) --db sqlite:$(DB) --web web/dist --access-log var/access.log --id-registry data/demo/id-registry.json

check: deps
	@$(MAKE) --no-print-directory build build-asan web demo-data
	@scripts/check.sh

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory build demo-data
	@bench/run.sh

format:
	clang-format -i src/*.c src/*/*.c src/*/*.h tests/unit/*.c fuzz/*.c tools/*.c

clean:
	rm -rf build build-asan web/dist var/demo-catalog.json
