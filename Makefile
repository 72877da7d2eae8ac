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
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=test/isolation/output_iso --load-extension=pgcrypto --load-extension=pg_trgm --load-extension=clinres

# One set of flags for both builds (CMake reads the same file).
PG_CPPFLAGS = -Isrc -isystem $(shell $(PG_CONFIG) --includedir-server)
PG_CXXFLAGS = -fPIC $(shell cat config/cxxflags.txt)
SHLIB_LINK  = -lstdc++ -lminizip -lexpat -lxlsxwriter -lz

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

$(UPGRADE_built): versions/next.sql $(SQL_PARTS) clinres.control config/sql-parts.txt scripts/sql-code.py scripts/build-upgrade.sh
	scripts/build-upgrade.sh $@ $(SQL_PARTS)
