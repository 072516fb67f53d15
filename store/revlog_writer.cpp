#include "store/revlog_writer.hpp"

#include <unordered_map>
#include <vector>

#include "mpatch/mpatch.hpp"
#include "store/file.hpp"
#include "store/file_writer.hpp"
#include "store/revlog_index.hpp"
#include "store/stage_clock.hpp"
#include "store/text_cache.hpp"

namespace hgrpc::store {

namespace fs = std::filesystem;

namespace {

// Whether every hunk of `delta` replaces whole lines of `base` with whole lines.
bool covers_whole_lines(ByteView base, ByteView delta) {
  auto hunks = mpatch::decode(delta);
  if (!hunks) return false;
  auto at_line_start = [&](std::int32_t offset) {
    return offset == 0 || (static_cast<std::size_t>(offset) <= base.size() && base[static_cast<std::size_t>(offset) - 1] == '\n');
  };
  for (const auto& h : *hunks) {
    if (!at_line_start(h.start) || !at_line_start(h.end)) return false;
    if (!h.data.empty() && h.data.back() != '\n') return false;
  }
  return true;
}

}  // namespace

struct RevlogWriter::State {
  Transaction* tx;
  std::string index_name;
  std::string data_name;
  RevlogWriterOptions options;
  bool inline_data = true;
  bool generaldelta = true;
  std::vector<IndexEntry> entries;
  std::vector<int> chain_length;           // revisions in the chain ending at each rev
  std::vector<std::uint64_t> chain_bytes;  // their compressed chunk bytes
  std::unordered_map<Node, int, NodeHash> revs;
  std::uint64_t data_end = 0;              // offset + length of the tip's chunk
  std::optional<AppendFile> index_file;
  std::optional<AppendFile> data_file;
  TextCache cache;
  std::optional<Revlog> reader;            // re-opened when it lacks a rev we need

  State(Transaction& t, std::string i, std::string d, const RevlogWriterOptions& o)
      : tx(&t), index_name(std::move(i)), data_name(std::move(d)), options(o), cache(o.cache_bytes) {}

  fs::path index_path() const { return tx->store_dir() / index_name; }
  fs::path data_path() const { return tx->store_dir() / data_name; }
  std::uint32_t version_word() const {
    return kRevlogV1 | (inline_data ? kFlagInline : 0) | (generaldelta ? kFlagGeneralDelta : 0);
  }
  std::string where(const Node& node) const { return index_name + ": node " + hex(node) + ": "; }

  void push(const IndexEntry& e) {
    int rev = static_cast<int>(entries.size());
    int parent = e.base == rev || e.base < 0 ? kNullRev : (generaldelta ? e.base : rev - 1);
    chain_length.push_back(parent == kNullRev ? 1 : chain_length[static_cast<std::size_t>(parent)] + 1);
    chain_bytes.push_back(e.compressed_length +
                          (parent == kNullRev ? 0 : chain_bytes[static_cast<std::size_t>(parent)]));
    revs.emplace(e.node, rev);
    data_end = e.offset + e.compressed_length;
    entries.push_back(e);
  }
};

RevlogWriter::RevlogWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}
RevlogWriter::RevlogWriter(RevlogWriter&&) noexcept = default;
RevlogWriter& RevlogWriter::operator=(RevlogWriter&&) noexcept = default;
RevlogWriter::~RevlogWriter() = default;

int RevlogWriter::size() const { return static_cast<int>(state_->entries.size()); }
bool RevlogWriter::inline_data() const { return state_->inline_data; }
const std::string& RevlogWriter::name() const { return state_->index_name; }

std::optional<int> RevlogWriter::rev(const Node& node) const {
  if (node == kNullNode) return kNullRev;
  auto it = state_->revs.find(node);
  if (it == state_->revs.end()) return std::nullopt;
  return it->second;
}

const Node& RevlogWriter::node(int rev) const {
  return rev == kNullRev ? kNullNode : state_->entries.at(static_cast<std::size_t>(rev)).node;
}

Result<RevlogWriter> RevlogWriter::open(Transaction& tx, std::string index_name, std::string data_name,
                                        bool generaldelta, const RevlogWriterOptions& options) {
  auto state = std::make_unique<State>(tx, std::move(index_name), std::move(data_name), options);
  state->generaldelta = generaldelta;
  RevlogOptions read;
  read.max_text_bytes = read.max_delta_bytes = options.max_text_bytes;
  read.cache_bytes = 0;  // this writer's cache is the one that matters
  auto existing = Revlog::open(state->index_path(), state->data_path(), state->index_name, read);
  if (!existing) return hgrpc::unexpected<Error>(existing.error());
  std::uint64_t expected_index = 0;
  if (existing->size() > 0) {
    state->inline_data = existing->inline_data();
    state->generaldelta = existing->generaldelta();
    for (int r = 0; r < existing->size(); ++r) {
      state->push(existing->entry(r));
      expected_index += kIndexEntrySize + (state->inline_data ? existing->entry(r).compressed_length : 0);
    }
    state->reader = std::move(*existing);
  }
  // Appending after bytes the index does not describe would corrupt the
  // revlog: they are what an interrupted writer leaves (recover() first).
  std::error_code ec;
  auto index_size = fs::exists(state->index_path()) ? fs::file_size(state->index_path(), ec) : 0;
  if (index_size != expected_index) {
    return fail(state->index_name + ": " + std::to_string(index_size) + " bytes where its " +
                std::to_string(state->entries.size()) + " revisions take " + std::to_string(expected_index) +
                " (an interrupted write?)");
  }
  if (!state->inline_data && fs::exists(state->data_path())) {
    auto data_size = fs::file_size(state->data_path(), ec);
    if (data_size != state->data_end) {
      return fail(state->data_name + ": " + std::to_string(data_size) + " bytes where its index describes " +
                  std::to_string(state->data_end) + " (an interrupted write?)");
    }
  }
  return RevlogWriter(std::move(state));
}

void RevlogWriter::release_cache() { state_->cache.clear(); }

Result<std::shared_ptr<const Bytes>> RevlogWriter::rawtext(int rev) {
  if (rev == kNullRev) return std::make_shared<const Bytes>();
  if (rev < 0 || rev >= size()) return fail(state_->index_name + ": rev " + std::to_string(rev) + " is out of range");
  if (auto hit = state_->cache.get(rev)) return hit;
  if (!state_->reader || state_->reader->size() <= rev) {
    RevlogOptions read;
    read.max_text_bytes = state_->options.max_text_bytes;
    read.max_delta_bytes = state_->options.max_text_bytes;
    read.cache_bytes = 0;  // this writer's cache is the one that matters
    auto reopened = Revlog::open(state_->index_path(), state_->data_path(), state_->index_name, read);
    if (!reopened) return hgrpc::unexpected<Error>(reopened.error());
    state_->reader = std::move(*reopened);
  }
  auto text = state_->reader->rawtext(rev);
  if (text) state_->cache.put(rev, *text);
  return text;
}

Result<int> RevlogWriter::add(const IncomingRevision& in) {
  StageScope writing(Stage::Write);
  State& s = *state_;
  if (auto existing = rev(in.node); existing && *existing != kNullRev) return *existing;
  if (in.node == kNullNode) return fail(s.index_name + ": the null node cannot be added");
  auto p1 = rev(in.p1);
  auto p2 = rev(in.p2);
  if (!p1) return fail(s.where(in.node) + "unknown parent " + hex(in.p1));
  if (!p2) return fail(s.where(in.node) + "unknown parent " + hex(in.p2));

  // The full rawtext, from the data or from the delta and its base.
  std::shared_ptr<const Bytes> text;
  if (!in.delta_base) {
    if (in.data.size() > s.options.max_text_bytes) {
      return fail(s.where(in.node) + "text of " + std::to_string(in.data.size()) + " bytes is over the limit of " +
                  std::to_string(s.options.max_text_bytes));
    }
    text = std::make_shared<const Bytes>(in.data.begin(), in.data.end());
  } else {
    StageScope patching(Stage::Patch);
    auto base = rev(*in.delta_base);
    if (!base) return fail(s.where(in.node) + "unknown delta base " + hex(*in.delta_base));
    auto base_text = rawtext(*base);
    if (!base_text) return hgrpc::unexpected<Error>(base_text.error());
    mpatch::Limits limits;
    limits.max_output_bytes = s.options.max_text_bytes;
    std::array<mpatch::ByteView, 1> deltas{in.data};
    auto patched = mpatch::apply(**base_text, deltas, limits);
    if (!patched) {
      return fail(s.where(in.node) + "delta against " + hex(*in.delta_base) + ": " + patched.error().message);
    }
    text = std::make_shared<const Bytes>(std::move(*patched));
  }
  Node computed = [&] {
    StageScope hashing(Stage::Hash);
    return hash_revision(in.p1, in.p2, *text);
  }();
  if (computed != in.node) {
    return fail(s.where(in.node) + "hash mismatch: the received text hashes to " + hex(computed));
  }

  // Delta or full text (the rule in the header).
  const int rev_number = size();
  int candidate = kNullRev;
  if (s.generaldelta) {
    candidate = *p1 != kNullRev ? *p1 : *p2;
  } else if (rev_number > 0) {
    candidate = rev_number - 1;
  }
  Bytes chunk;
  int base_field = rev_number;
  const std::uint64_t text_size = text->size();
  // A chain whose bytes already pass the ratio takes no delta, however
  // small: that is known before diffing and compressing one.
  if (candidate != kNullRev && !text->empty() && (in.delta_base || !s.options.full_texts_as_received) &&
      s.chain_length[static_cast<std::size_t>(candidate)] < s.options.max_chain_length &&
      s.chain_bytes[static_cast<std::size_t>(candidate)] <= s.options.max_chain_ratio * text_size) {
    Bytes computed_delta;
    ByteView delta;
    auto base_text = rawtext(candidate);
    if (!base_text) return hgrpc::unexpected<Error>(base_text.error());
    if (in.delta_base && *in.delta_base == node(candidate) &&
        (!s.options.line_deltas || covers_whole_lines(**base_text, in.data))) {
      delta = in.data;
    } else {
      computed_delta = s.options.line_deltas ? mpatch::line_diff(**base_text, *text) : mpatch::diff(**base_text, *text);
      delta = computed_delta;
    }
    Bytes delta_chunk = compress_chunk(delta, s.options.compression, s.options.zstd_level);
    std::uint64_t chain = s.chain_bytes[static_cast<std::size_t>(candidate)] + delta_chunk.size();
    if (delta_chunk.size() <= text_size && chain <= s.options.max_chain_ratio * text_size) {
      chunk = std::move(delta_chunk);
      base_field = s.generaldelta ? candidate : s.entries[static_cast<std::size_t>(candidate)].base;
    }
  }
  if (base_field == rev_number) chunk = compress_chunk(*text, s.options.compression, s.options.zstd_level);

  IndexEntry entry;
  entry.offset = s.data_end;
  entry.compressed_length = static_cast<std::uint32_t>(chunk.size());
  entry.rawsize = static_cast<std::int32_t>(text_size);
  entry.base = base_field;
  entry.linkrev = in.linkrev;
  entry.p1 = *p1;
  entry.p2 = *p2;
  entry.node = in.node;
  Bytes entry_bytes;
  append_index_entry(entry_bytes, entry, rev_number == 0, s.version_word());

  // Data before index, as Mercurial writes them: a reader never sees an
  // entry whose chunk is missing.
  if (auto t = s.tx->track_append(s.index_name); !t) return hgrpc::unexpected<Error>(t.error());
  if (!s.index_file) {
    auto f = AppendFile::open(s.index_path());
    if (!f) return hgrpc::unexpected<Error>(f.error());
    s.index_file = std::move(*f);
  }
  if (s.inline_data) {
    entry_bytes.insert(entry_bytes.end(), chunk.begin(), chunk.end());
  } else {
    if (auto t = s.tx->track_append(s.data_name); !t) return hgrpc::unexpected<Error>(t.error());
    if (!s.data_file) {
      auto f = AppendFile::open(s.data_path());
      if (!f) return hgrpc::unexpected<Error>(f.error());
      s.data_file = std::move(*f);
    }
    if (auto w = s.data_file->write(chunk); !w) return hgrpc::unexpected<Error>(w.error());
  }
  if (auto w = s.index_file->write(entry_bytes); !w) return hgrpc::unexpected<Error>(w.error());
  entry.file_position = s.inline_data ? entry.offset + (static_cast<std::uint64_t>(rev_number) + 1) * kIndexEntrySize
                                      : entry.offset;
  s.push(entry);
  s.cache.put(rev_number, text);
  if (s.inline_data && s.data_end >= s.options.max_inline_bytes) {
    if (auto sp = split(); !sp) return hgrpc::unexpected<Error>(sp.error());
  }
  return rev_number;
}

// Inline -> .i + .d: the chunks move to the data file, the index keeps the
// entries with the inline flag cleared. The data file is complete before the
// index is replaced (by rename), and the journal can undo either step.
Result<void> RevlogWriter::split() {
  State& s = *state_;
  s.index_file.reset();
  auto inline_bytes = read_file(s.index_path(), std::uint64_t{1} << 32);
  if (!inline_bytes) return hgrpc::unexpected<Error>(inline_bytes.error());
  if (!*inline_bytes) return fail(s.index_name + ": vanished while being written");
  const Bytes& file = **inline_bytes;
  if (auto t = s.tx->track_split(s.index_name, s.data_name, file.size(), size()); !t) return t;
  s.inline_data = false;
  Bytes data;
  Bytes index;
  data.reserve(s.data_end);
  index.reserve(s.entries.size() * kIndexEntrySize);
  for (std::size_t r = 0; r < s.entries.size(); ++r) {
    IndexEntry& e = s.entries[r];
    if (e.file_position + e.compressed_length > file.size()) {
      return fail(s.index_name + ": rev " + std::to_string(r) + " lies past the end of the file");
    }
    auto begin = file.begin() + static_cast<std::ptrdiff_t>(e.file_position);
    data.insert(data.end(), begin, begin + e.compressed_length);
    e.file_position = e.offset;
    append_index_entry(index, e, r == 0, s.version_word());
  }
  if (auto w = replace_file(s.data_path(), data); !w) return w;
  if (auto w = replace_file(s.index_path(), index); !w) return w;
  s.reader.reset();
  return {};
}

}  // namespace hgrpc::store
