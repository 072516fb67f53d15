// Store path encodings: the verified vectors of the repository notes, and
// vectors computed by Debian's Mercurial encoders (make_fixtures.py).
#include <doctest/doctest.h>

#include "store/path_encoding.hpp"
#include "tests/store/support.hpp"

namespace hgrpc::store::test {

TEST_CASE("fncache+dotencode: the notes' verified vectors") {
  std::string long_in = "data/";
  for (int i = 0; i < 10; ++i) long_in += "very/";
  long_in += "long_directory_name_that_goes_on/AndAFileNameThatIsQuiteLong_" + std::string(60, 'x') + ".txt.i";
  const std::pair<std::string, std::string> vectors[] = {
      {"data/FOO/Bar_baz.i", "data/_f_o_o/_bar__baz.i"},
      {"data/a:b?c.i", "data/a~3ab~3fc.i"},
      {"data/aux.i", "data/au~78.i"},
      {"data/AUX.i", "data/_a_u_x.i"},
      {"data/com1.txt.i", "data/co~6d1.txt.i"},
      {"data/lpt9/x.d", "data/lp~749/x.d"},
      {"data/.hgtags.i", "data/~2ehgtags.i"},
      {"data/ lead.i", "data/~20lead.i"},
      {"data/trail./x.i", "data/trail~2e/x.i"},
      {"data/dir.i/f.i", "data/dir.i.hg/f.i"},
      {"data/x.hg/y.i", "data/x.hg.hg/y.i"},
      {"data/t~ilde.i", "data/t~7eilde.i"},
      {"data/\xc3\xa9t\xc3\xa9.i", "data/~c3~a9t~c3~a9.i"},
      {long_in,
       "dh/very/very/very/very/very/very/very/very/very/very/long_dir/"
       "andafilenamethat80c3da4c2056cfa2fff9bf7445444f7f81fe916e.i"},
  };
  for (const auto& vector : vectors) {
    const auto& in = vector.first;  // a plain name: clang 14 cannot capture a binding in INFO
    const auto& out = vector.second;
    INFO(in);
    CHECK(encode_store_path(in, StoreKind::kFncacheDotencode) == out);
  }
  CHECK(encode_store_path(long_in, StoreKind::kFncacheDotencode).size() == 120);
}

TEST_CASE("every store kind matches Mercurial's encoders") {
  const auto& vectors = oracle().at("path_vectors");
  REQUIRE(vectors.size() == 27);
  for (const auto& v : vectors) {
    std::string in;
    for (std::size_t i = 0; i < v["input"].get<std::string>().size(); i += 2) {
      in.push_back(static_cast<char>(std::stoi(v["input"].get<std::string>().substr(i, 2), nullptr, 16)));
    }
    INFO(in);
    CHECK(encode_store_path(in, StoreKind::kFncacheDotencode) == v["fncache_dotencode"].get<std::string>());
    CHECK(encode_store_path(in, StoreKind::kFncache) == v["fncache"].get<std::string>());
    CHECK(encode_store_path(in, StoreKind::kEncoded) == v["encoded"].get<std::string>());
    CHECK(encode_store_path(in, StoreKind::kBasic) == v["basic"].get<std::string>());
  }
}

TEST_CASE("encode_dir escapes directories that look like revlog files") {
  CHECK(encode_dir("data/a.hg/b.i/c.d/e.i") == "data/a.hg.hg/b.i.hg/c.d.hg/e.i");
  CHECK(encode_dir("data/plain/f.i") == "data/plain/f.i");
}

}  // namespace hgrpc::store::test
