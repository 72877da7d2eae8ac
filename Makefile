# PGXS build of clinres: `make && make install && make installcheck`.
EXTENSION   = clinres
EXTVERSION  = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" clinres.control)
MODULE_big  = clinres
SOURCES     = $(sort $(wildcard src/*.cpp src/*/*.cpp))
OBJS        = $(SOURCES:.cpp=.o)
# The install script is the concatenation of each feature's SQL, in this order.
SQL_PARTS   = src/catalog/catalog.sql src/access/access.sql src/schema/schema.sql src/connections/connections.sql src/pg/bridge.sql
DATA_built  = $(EXTENSION)--$(EXTVERSION).sql
CLINRES_HEADERS = $(wildcard src/*/*.hpp)

REGRESS      = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --load-extension=pgcrypto --load-extension=clinres
ISOLATION      = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=test/isolation/output_iso --load-extension=pgcrypto --load-extension=clinres

PG_CPPFLAGS = -Isrc -isystem $(shell $(PG_CONFIG) --includedir-server)
PG_CXXFLAGS = -std=c++17 -fPIC -Wall -Wextra
SHLIB_LINK  = -lstdc++

# PGXS would emit LLVM bitcode with clang++ for every C++ file, which fails where
# clang++ is missing; clinres is not meant for JIT inlining. `override` beats the
# with_llvm = yes that Makefile.global sets while it is being included.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(OBJS): $(CLINRES_HEADERS)

$(DATA_built): $(SQL_PARTS) clinres.control
	cat $(SQL_PARTS) > $@
