// Boost.JSON's compiled part, for every component that builds or reads JSON (admin, accesslog).
// Boost.JSON is used header-only: src.hpp must be compiled in exactly one translation unit of the
// program, and this is it.

#include <boost/json/src.hpp>
