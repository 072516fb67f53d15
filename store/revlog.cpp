#include "store/revlog.hpp"

#include <cstdio>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "mpatch/mpatch.hpp"
#include "store/chunk.hpp"
#include "store/file.hpp"
#include "store/text_cache.hpp"

namespace hgrpc::store {

struct Revlog::State {
  std::string name;
  RevlogOptions options;
  RevlogIndex index;
  Bytes inline_bytes;                 // the .i file, when chunks live in it
  std::optional<ReadOnlyFile> data;   // the .d file otherwise
  std::optional<Bytes> data_memory;   // or its bytes (from_memory)
  std::once_flag node_map_once;
  std::unordered_map<Node, int, NodeHash> node_map;
  TextCache cache;

  State(std::string n, const RevlogOptions& o) : name(std::move(n)), options(o), cache(o.cache_bytes) {}

  std::string where(int rev) const { return name + ": rev " + std::to_string(rev) + ": "; }

  // A rev's stored chunk: a view into memory for inline and in-memory
  // revlogs (no copy), else read from the .d file into `scratch`.
  Result<ByteView> chunk(int rev, Bytes& scratch) const {
    const IndexEntry& e = index.entries[static_cast<std::size_t>(rev)];
    if (index.inline_data) return ByteView(inline_bytes).subspan(e.file_position, e.compressed_length);
    if (data_memory) return ByteView(*data_memory).subspan(e.file_position, e.compressed_length);
    if (!data) {
      if (e.compressed_length == 0) return ByteView();
      return fail(where(rev) + "data file is missing");
    }
    auto bytes = data->read(e.file_position, e.compressed_length);
    if (!bytes) return hgrpc::unexpected<Error>(with_context(where(rev), bytes.error()));
    scratch = std::move(*bytes);
    return ByteView(scratch);
  }
};

namespace {

std::string flag_hex(std::uint16_t flags) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", flags);
  return buf;
}

// Names the first flag that keeps a rev's rawtext from being served as is.
std::string flag_problem(std::uint16_t flags) {
  if (flags & kRevFlagCensored) return "censored revision (flag 0x8000) is not supported";
  if (flags & kRevFlagEllipsis) return "ellipsis revision (flag 0x4000) is not supported";
  if (flags & kRevFlagExtStored) return "externally stored revision (flag 0x2000, lfs) is not supported";
  return "revision flags " + flag_hex(flags) + " are not supported";
}

}  // namespace

Result<Revlog> Revlog::open(const std::filesystem::path& index_path,
                            const std::filesystem::path& data_path, std::string name,
                            const RevlogOptions& options) {
  auto state = std::make_shared<State>(std::move(name), options);
  auto bytes = read_file(index_path, options.max_index_bytes);
  if (!bytes) return hgrpc::unexpected<Error>(bytes.error());
  if (!*bytes) return Revlog(state);
  auto index = parse_index(**bytes, state->name);
  if (!index) return hgrpc::unexpected<Error>(index.error());
  state->index = std::move(*index);
  if (state->index.inline_data) {
    state->inline_bytes = std::move(**bytes);
  } else if (!state->index.entries.empty()) {
    auto data = ReadOnlyFile::open(data_path);
    if (!data) return hgrpc::unexpected<Error>(data.error());
    if (!*data) {
      // Mercurial writes the data before the index entries: a missing data
      // file under entries that have data is damage, not an append.
      for (const auto& e : state->index.entries) {
        if (e.compressed_length > 0) return fail(state->name + ": data file " + data_path.string() + " is missing");
      }
      return Revlog(state);
    }
    auto size = (*data)->size();
    if (!size) return hgrpc::unexpected<Error>(size.error());
    std::uint64_t data_size = *size;
    // Entries whose data is not (yet) in the .d file are an append in
    // progress: keep only the complete ones, as for the index itself.
    auto& entries = state->index.entries;
    while (!entries.empty() &&
           entries.back().offset + entries.back().compressed_length > data_size) {
      entries.pop_back();
    }
    state->data = std::move(**data);
  }
  return Revlog(state);
}

Result<Revlog> Revlog::from_memory(Bytes index_file, Bytes data_file, std::string name,
                                   const RevlogOptions& options) {
  auto state = std::make_shared<State>(std::move(name), options);
  auto index = parse_index(index_file, state->name);
  if (!index) return hgrpc::unexpected<Error>(index.error());
  state->index = std::move(*index);
  if (state->index.inline_data) {
    state->inline_bytes = std::move(index_file);
  } else {
    auto& entries = state->index.entries;
    while (!entries.empty() && entries.back().offset + entries.back().compressed_length > data_file.size()) {
      entries.pop_back();
    }
    state->data_memory = std::move(data_file);
  }
  return Revlog(state);
}

Result<Revlog> Revlog::open(const std::filesystem::path& store_dir, const std::string& radix,
                            const RevlogOptions& options) {
  return open(store_dir / (radix + ".i"), store_dir / (radix + ".d"), radix + ".i", options);
}

int Revlog::size() const { return static_cast<int>(state_->index.entries.size()); }
const IndexEntry& Revlog::entry(int rev) const { return state_->index.entries.at(static_cast<std::size_t>(rev)); }
const std::string& Revlog::name() const { return state_->name; }
bool Revlog::generaldelta() const { return state_->index.generaldelta; }
bool Revlog::inline_data() const { return state_->index.inline_data; }

const Node& Revlog::node(int rev) const {
  return rev == kNullRev ? kNullNode : entry(rev).node;
}

std::optional<int> Revlog::rev(const Node& node) const {
  if (node == kNullNode) return kNullRev;
  std::call_once(state_->node_map_once, [this] {
    auto& map = state_->node_map;
    map.reserve(state_->index.entries.size());
    for (std::size_t r = 0; r < state_->index.entries.size(); ++r) {
      map.emplace(state_->index.entries[r].node, static_cast<int>(r));
    }
  });
  auto it = state_->node_map.find(node);
  if (it == state_->node_map.end()) return std::nullopt;
  return it->second;
}

int Revlog::delta_parent(int rev) const {
  const IndexEntry& e = entry(rev);
  if (e.base == rev || e.base < 0) return kNullRev;  // a full-text snapshot
  return generaldelta() ? e.base : rev - 1;
}

Result<Bytes> Revlog::raw_chunk(int rev) const {
  if (rev < 0 || rev >= size()) {
    return fail(state_->name + ": rev " + std::to_string(rev) + " is out of range (" +
                std::to_string(size()) + " revisions)");
  }
  const IndexEntry& e = entry(rev);
  if (state_->index.inline_data) {
    auto begin = state_->inline_bytes.begin() + static_cast<std::ptrdiff_t>(e.file_position);
    return Bytes(begin, begin + e.compressed_length);
  }
  if (!state_->data && !state_->data_memory) {
    if (e.compressed_length == 0) return Bytes{};
    return fail(state_->where(rev) + "data file is missing");
  }
  if (state_->data_memory) {
    auto begin = state_->data_memory->begin() + static_cast<std::ptrdiff_t>(e.file_position);
    return Bytes(begin, begin + e.compressed_length);
  }
  auto bytes = state_->data->read(e.file_position, e.compressed_length);
  if (!bytes) return hgrpc::unexpected<Error>(with_context(state_->where(rev), bytes.error()));
  return bytes;
}

Result<StoredDelta> Revlog::stored_delta(int rev) const {
  auto chunk = raw_chunk(rev);
  if (!chunk) return hgrpc::unexpected<Error>(chunk.error());
  const IndexEntry& e = entry(rev);
  if (e.flags != 0) return fail(state_->where(rev) + flag_problem(e.flags));
  return delta_of_chunk(rev, *chunk);
}

std::uint64_t Revlog::stored_size_limit(int rev) const {
  const IndexEntry& e = entry(rev);
  if (delta_parent(rev) != kNullRev) return state_->options.max_delta_bytes;
  return e.rawsize >= 0 ? static_cast<std::uint64_t>(e.rawsize) : state_->options.max_text_bytes;
}

Result<StoredDelta> Revlog::delta_of_chunk(int rev, ByteView chunk) const {
  StoredDelta out;
  out.base = delta_parent(rev);
  auto data = decompress_chunk(chunk, stored_size_limit(rev));
  if (!data) return hgrpc::unexpected<Error>(with_context(state_->where(rev), data.error()));
  out.data = std::move(*data);
  return out;
}

Result<std::variant<StoredZstdChunk, StoredDelta>> Revlog::stored_zstd_chunk_or_delta(int rev,
                                                                                    std::uint64_t max_window) const {
  auto chunk = raw_chunk(rev);
  if (!chunk) return hgrpc::unexpected<Error>(chunk.error());
  const IndexEntry& e = entry(rev);
  if (e.flags != 0) return fail(state_->where(rev) + flag_problem(e.flags));
  if (auto size = whole_zstd_frame_size(*chunk, stored_size_limit(rev), max_window)) {
    return StoredZstdChunk{delta_parent(rev), std::move(*chunk), *size};
  }
  auto delta = delta_of_chunk(rev, *chunk);
  if (!delta) return hgrpc::unexpected<Error>(delta.error());
  return std::move(*delta);
}

Result<std::shared_ptr<const Bytes>> Revlog::rawtext(int rev) const {
  if (rev < 0 || rev >= size()) {
    return fail(state_->name + ": rev " + std::to_string(rev) + " is out of range (" +
                std::to_string(size()) + " revisions)");
  }
  if (auto hit = state_->cache.get(rev)) return hit;
  const IndexEntry& target = entry(rev);
  if (target.flags != 0) return fail(state_->where(rev) + flag_problem(target.flags));
  const auto& options = state_->options;
  if (target.rawsize >= 0 && static_cast<std::uint64_t>(target.rawsize) > options.max_text_bytes) {
    return fail(state_->where(rev) + "rawtext of " + std::to_string(target.rawsize) +
                " bytes is over the limit of " + std::to_string(options.max_text_bytes));
  }

  // Walk down the chain to a snapshot or a cached text.
  std::vector<int> chain;  // revs whose deltas apply, newest first
  std::shared_ptr<const Bytes> base;
  int r = rev;
  for (;;) {
    if (r != rev) {
      base = state_->cache.get(r);
      if (base) break;
    }
    int parent = delta_parent(r);
    if (parent == kNullRev) break;
    if (parent >= r) {
      return fail(state_->where(r) + "delta base " + std::to_string(parent) + " is not an earlier rev");
    }
    chain.push_back(r);
    r = parent;
  }
  Bytes scratch;
  if (!base) {
    const IndexEntry& e = entry(r);
    auto chunk = state_->chunk(r, scratch);
    if (!chunk) return hgrpc::unexpected<Error>(chunk.error());
    std::uint64_t limit = e.rawsize >= 0 ? static_cast<std::uint64_t>(e.rawsize) : options.max_text_bytes;
    auto text = decompress_chunk(*chunk, limit);
    if (!text) return hgrpc::unexpected<Error>(with_context(state_->where(r), text.error()));
    base = std::make_shared<const Bytes>(std::move(*text));
  }

  std::shared_ptr<const Bytes> result = base;
  if (!chain.empty()) {
    std::vector<Bytes> deltas;
    deltas.reserve(chain.size());
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      auto chunk = state_->chunk(*it, scratch);
      if (!chunk) return hgrpc::unexpected<Error>(chunk.error());
      auto delta = decompress_chunk(*chunk, options.max_delta_bytes);
      if (!delta) return hgrpc::unexpected<Error>(with_context(state_->where(*it), delta.error()));
      deltas.push_back(std::move(*delta));
    }
    std::vector<mpatch::ByteView> views(deltas.begin(), deltas.end());
    mpatch::Limits limits;
    limits.max_output_bytes = target.rawsize >= 0 ? static_cast<std::uint64_t>(target.rawsize)
                                                  : options.max_text_bytes;
    auto text = mpatch::apply(*base, views, limits);
    if (!text) {
      return fail(state_->where(rev) + "delta chain from rev " + std::to_string(r) + ": " +
                  text.error().message);
    }
    result = std::make_shared<const Bytes>(std::move(*text));
  }

  if (target.rawsize >= 0 && result->size() != static_cast<std::uint64_t>(target.rawsize)) {
    return fail(state_->where(rev) + "rawtext is " + std::to_string(result->size()) +
                " bytes, the index says " + std::to_string(target.rawsize));
  }
  if (options.verify_hashes) {
    Node computed = hash_revision(node(target.p1), node(target.p2), *result);
    if (computed != target.node) {
      return fail(state_->where(rev) + "hash mismatch: the rawtext hashes to " + hex(computed) +
                  ", the index says " + hex(target.node));
    }
  }
  state_->cache.put(rev, result);
  return result;
}

}  // namespace hgrpc::store
