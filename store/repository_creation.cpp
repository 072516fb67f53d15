#include "store/repository_creation.hpp"

#include <sys/stat.h>

#include "store/file_writer.hpp"

namespace hgrpc::store {

namespace fs = std::filesystem;

std::set<std::string> new_working_requirements() { return {"share-safe"}; }

std::set<std::string> new_store_requirements(const NewRepositoryOptions& options) {
  std::set<std::string> req{"dotencode", "fncache", "generaldelta", "revlogv1", "sparserevlog", "store"};
  if (options.compression == Compression::kZstd) req.insert("revlog-compression-zstd");
  if (options.compression == Compression::kNone) req.insert("exp-compression-none");
  return req;
}

namespace {

std::string lines(const std::set<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += item + "\n";
  return out;
}

// The version word 0xffff (format 65535, no flags) that no revlog reader
// accepts, then an explanation: what 6.3.2 puts in .hg/00changelog.i.
constexpr std::string_view kDummyChangelog{"\0\0\xff\xff dummy changelog to prevent using the old repo layout", 57};

}  // namespace

Result<void> create_repository(const fs::path& root, const NewRepositoryOptions& options) {
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return fail(root.string() + ": cannot create directory: " + ec.message());
  fs::path hg = root / ".hg";
  if (!fs::create_directory(hg, ec)) {
    if (ec) return fail(hg.string() + ": cannot create directory: " + ec.message());
    return fail(root.string() + ": repository already exists");
  }
  fs::create_directory(hg / "store", ec);
  if (ec) return fail((hg / "store").string() + ": cannot create directory: " + ec.message());
  if (auto w = replace_file(hg / "00changelog.i", as_bytes(kDummyChangelog)); !w) return w;
  if (auto w = replace_file(hg / "requires", as_bytes(lines(new_working_requirements()))); !w) return w;
  if (auto w = replace_file(hg / "store" / "requires", as_bytes(lines(new_store_requirements(options)))); !w) return w;
  if (options.default_path) {
    std::string hgrc = "[paths]\ndefault = " + *options.default_path + "\n";
    if (auto w = replace_file(hg / "hgrc", as_bytes(hgrc)); !w) return w;
  }
  return {};
}

}  // namespace hgrpc::store
