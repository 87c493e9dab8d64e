// Boost.JSON's compiled part (header-only use: src.hpp in one translation unit of this
// component). Alone in its file so that, when another component's archive compiles it too, the
// static linker takes the copy from whichever archive it reaches first and never pulls the other.

#include <boost/json/src.hpp>
