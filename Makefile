# PGXS build of clinres: `make && make install && make installcheck`.
EXTENSION   = clinres
EXTVERSION  = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" clinres.control)
MODULE_big  = clinres
SOURCES     = $(sort $(shell find src/clinres -name '*.cpp'))
OBJS        = $(SOURCES:.cpp=.o)
# The current install script is built from each feature's SQL, in the order of
# config/sql-parts.txt; every earlier release and every upgrade step is a frozen file in versions/.
SQL_PARTS   = $(shell cat config/sql-parts.txt)
# The upgrade from the last release is versions/next.sql with every function of the parts
# (scripts/sql-code.py) where its "-- @code" line stands: a function is written once.
PREVVERSION = $(shell sed -n '1s/^-- from //p' versions/next.sql)
UPGRADE_built = $(EXTENSION)--$(PREVVERSION)--$(EXTVERSION).sql
DATA_built  = $(EXTENSION)--$(EXTVERSION).sql $(UPGRADE_built)
DATA        = $(filter-out versions/$(EXTENSION)--$(EXTVERSION).sql,$(wildcard versions/$(EXTENSION)--*.sql)) \
              $(wildcard versions/$(EXTENSION)--*.control)
CLINRES_HEADERS = $(shell find src/clinres -name '*.hpp')

REGRESS      = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --load-extension=pgcrypto --load-extension=pg_trgm --load-extension=clinres
ISOLATION      = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
# Where the isolation specs' results go; a suite that runs specs beside the others names its own.
ISOLATION_OUTPUTDIR ?= test/isolation/output_iso
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=$(ISOLATION_OUTPUTDIR) --load-extension=pgcrypto --load-extension=pg_trgm --load-extension=clinres

# One set of flags for both builds (CMake reads the same file).
PG_CPPFLAGS = -Isrc -isystem $(shell $(PG_CONFIG) --includedir-server)
PG_CXXFLAGS = -fPIC $(shell cat config/cxxflags.txt) $(if $(WERROR),-Werror)
SHLIB_LINK  = -lstdc++ -lminizip -lexpat -lxlsxwriter -lz -lcrypto

# PGXS would emit LLVM bitcode with clang++ for every C++ file, which fails where
# clang++ is missing; clinres is not meant for JIT inlining. `override` beats the
# with_llvm = yes that Makefile.global sets while it is being included.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(OBJS): $(CLINRES_HEADERS) config/cxxflags.txt

$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS) clinres.control config/sql-parts.txt
	cat $(SQL_PARTS) > $@

# make install first removes every clinres script the installation has, so that it holds exactly
# what this tree ships: a script another build left (a version no longer shipped) would otherwise
# be chosen by CREATE EXTENSION ... VERSION over the chain the upgrade test means to check.
install: remove-installed-scripts
.PHONY: remove-installed-scripts
remove-installed-scripts:
	rm -f '$(DESTDIR)$(datadir)/extension/$(EXTENSION)'--*.sql

# make install only if it would change what is installed (scripts/demo.sh, which the suites run
# beside others): a reinstall of the same files would remove and rewrite scripts and the library
# that the servers of the other suites may be reading at that moment.
.PHONY: install-if-changed
install-if-changed: all
	@ext='$(DESTDIR)$(datadir)/extension'; same=true; \
	cmp -s $(shlib) '$(DESTDIR)$(pkglibdir)/$(shlib)' || same=false; \
	for f in $(EXTENSION).control $(DATA) $(DATA_built); do cmp -s $$f "$$ext/$$(basename $$f)" || same=false; done; \
	[ "$$(ls "$$ext" | grep -c '^$(EXTENSION)--.*\.sql$$')" -eq "$$(ls $(DATA) $(DATA_built) | grep -c '\.sql$$')" ] || same=false; \
	$$same || $(MAKE) -s install

$(UPGRADE_built): versions/next.sql $(SQL_PARTS) clinres.control config/sql-parts.txt scripts/sql-code.py scripts/build-upgrade.sh
	scripts/build-upgrade.sh $@ $(SQL_PARTS)

# Rebuild when the compile flags change (another PG_CONFIG, WERROR=1), not only when a source or
# header does: the objects depend on a file holding the flags, rewritten (here, as the Makefile is
# read) only when they differ.
BUILD_FLAGS := $(shell f='$(CXX) $(CXXFLAGS) $(CPPFLAGS)'; echo "$$f" | cmp -s - .build-flags \
                       || echo "$$f" > .build-flags; echo .build-flags)
$(OBJS): $(BUILD_FLAGS)

# The developer loop (CONTRIBUTING.md): house style, static checks, unit tests.
FORMAT_FILES = $(sort $(wildcard src/clinres/*.cpp src/clinres/*/*.[ch]pp src/clinres/*/*/*.[ch]pp \
                                 test/unit/*.[ch]pp test/fuzz/*.[ch]pp))
LINT_FLAGS   = -std=c++17 -Isrc -isystem $(shell $(PG_CONFIG) --includedir-server) -D_GNU_SOURCE \
               -DGENERATED_FIXTURES='""' -DCOMMITTED_FIXTURES='""'
.PHONY: format format-check lint unit
format:
	clang-format -i $(FORMAT_FILES)
format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)
lint:
	@$(MAKE) -s -k -j 2 $(addprefix lint/,$(filter %.cpp,$(FORMAT_FILES)))
lint/%:
	@clang-tidy --quiet --warnings-as-errors='*' $* -- $(LINT_FLAGS)
unit:
	cmake -S . -B build -DPG_CONFIG=$(shell command -v $(PG_CONFIG)) >/dev/null
	cmake --build build --target clinres_unit -j 2
	cd build && ctest --output-on-failure -j 2
