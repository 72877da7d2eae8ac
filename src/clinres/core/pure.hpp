// Included by every file documented as pure C++: compilation fails if a PostgreSQL
// header was included before it (postgres.h defines POSTGRES_H, c.h defines C_H).
#pragma once

#if defined(POSTGRES_H) || defined(C_H) || defined(PG_VERSION_NUM)
#error "this file is pure C++ and must not be compiled with PostgreSQL headers"
#endif
