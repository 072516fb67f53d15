#pragma once
// std::expected where the compiler has it (g++ 12 with -std=c++23); tl::expected
// (Debian's libexpected-dev) where it does not: clang 14 with libstdc++ 12, which
// builds our libFuzzer targets, lacks <expected>. The two share the API we use.
// Always spell unexpected<E>(...) with its template argument (no alias CTAD).
#if __has_include(<expected>)
#include <expected>
#endif

#if defined(__cpp_lib_expected)
namespace hgrpc {
template <class T, class E>
using expected = std::expected<T, E>;
template <class E>
using unexpected = std::unexpected<E>;
}  // namespace hgrpc
#else
#include <tl/expected.hpp>
namespace hgrpc {
template <class T, class E>
using expected = tl::expected<T, E>;
template <class E>
using unexpected = tl::unexpected<E>;
}  // namespace hgrpc
#endif
