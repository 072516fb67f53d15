#include "client/files.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace hgrpc::client {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

std::string why(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

}  // namespace

framing::Result<framing::Bytes> read_file(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> owned;
  std::FILE* f = stdin;
  if (path != "-") {
    owned.reset(std::fopen(path.c_str(), "rb"));
    if (!owned) return framing::fail(why("cannot open", path));
    f = owned.get();
  }
  framing::Bytes out;
  std::uint8_t buf[65536];
  for (;;) {
    std::size_t n = std::fread(buf, 1, sizeof buf, f);
    out.insert(out.end(), buf, buf + n);
    if (n < sizeof buf) {
      if (std::ferror(f)) return framing::fail(why("cannot read", path));
      break;
    }
  }
  return out;
}

framing::Result<void> write_file(const std::string& path, framing::ByteView data) {
  std::unique_ptr<std::FILE, FileCloser> owned;
  std::FILE* f = stdout;
  if (path != "-") {
    owned.reset(std::fopen(path.c_str(), "wb"));
    if (!owned) return framing::fail(why("cannot create", path));
    f = owned.get();
  }
  if (std::fwrite(data.data(), 1, data.size(), f) != data.size() || std::fflush(f) != 0) {
    return framing::fail(why("cannot write", path));
  }
  if (owned && std::fclose(owned.release()) != 0) return framing::fail(why("cannot write", path));
  return {};
}

}  // namespace hgrpc::client
