// The zstd context pool: contexts are reused, bounded, and carry nothing of
// one stream into the next (its output is byte for byte a fresh context's).
#include <doctest/doctest.h>

#include <string_view>

#include "framing/content_encoding.hpp"
#include "framing/zstd_context_pool.hpp"

using namespace hgrpc::framing;
using namespace std::literals;

namespace {

Bytes encode_all(Encoder& e, std::initializer_list<std::string_view> messages) {
  Bytes out;
  for (auto m : messages) REQUIRE(e.encode(as_bytes(m), out));
  return out;
}

Bytes fresh_encoding(int level, std::initializer_list<std::string_view> messages) {
  auto e = make_encoder(Encoding::Zstd8mb, EncoderOptions{.zstd_level = level});
  return encode_all(*e, messages);
}

}  // namespace

TEST_CASE("zstd context pool: a released context is handed out again, up to max_idle kept") {
  ZstdContextPool pool(2);
  ZSTD_CCtx* a = pool.acquire();
  ZSTD_CCtx* b = pool.acquire();
  ZSTD_CCtx* c = pool.acquire();
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  REQUIRE(c != nullptr);
  CHECK(pool.idle() == 0);
  pool.release(a);
  pool.release(b);
  pool.release(c);  // over max_idle: freed
  CHECK(pool.idle() == 2);
  ZSTD_CCtx* again = pool.acquire();
  CHECK((again == a || again == b));
  CHECK(pool.idle() == 1);
  pool.release(again);
  pool.release(nullptr);  // ignored
  CHECK(pool.idle() == 2);
}

TEST_CASE("zstd context pool: trim frees the idle contexts beyond keep, the kept ones are handed out") {
  ZstdContextPool pool(4);
  ZSTD_CCtx* a = pool.acquire();
  ZSTD_CCtx* b = pool.acquire();
  ZSTD_CCtx* c = pool.acquire();
  pool.release(a);
  pool.release(b);
  pool.release(c);
  REQUIRE(pool.idle() == 3);
  pool.trim(1);
  CHECK(pool.idle() == 1);
  // The one kept is the first released (the others went from the back).
  CHECK(pool.acquire() == a);
  CHECK(pool.idle() == 0);
  pool.trim(1);  // nothing idle: nothing to free
  CHECK(pool.idle() == 0);
  pool.release(a);
  pool.trim(0);
  CHECK(pool.idle() == 0);
}

TEST_CASE("zstd context pool: a reused context's output equals a fresh context's, byte for byte") {
  ZstdContextPool pool(1);
  const auto first = {"changeset manifest delta changeset manifest delta"sv, "node rev node rev"sv};
  const auto second = {"changeset manifest delta"sv, "manifest delta changeset"sv};
  {
    // Level 19 and some history: neither may reach the next stream.
    auto e = make_encoder(Encoding::Zstd8mb, EncoderOptions{.zstd_level = 19, .zstd_pool = &pool});
    CHECK(encode_all(*e, first) == fresh_encoding(19, first));
  }
  REQUIRE(pool.idle() == 1);
  auto e = make_encoder(Encoding::Zstd8mb, EncoderOptions{.zstd_level = 3, .zstd_pool = &pool});
  CHECK(pool.idle() == 0);  // it took the pooled context
  CHECK(encode_all(*e, second) == fresh_encoding(3, second));
  // The comparison can tell: had the first stream's history stayed, the
  // second stream's bytes would differ (they would reference it).
  auto shared = make_encoder(Encoding::Zstd8mb, EncoderOptions{.zstd_level = 3});
  encode_all(*shared, first);
  CHECK(encode_all(*shared, second) != fresh_encoding(3, second));
}
