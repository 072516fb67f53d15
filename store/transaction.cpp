#include "store/transaction.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <vector>

#include "store/file.hpp"
#include "store/file_writer.hpp"
#include "store/revlog_index.hpp"

namespace hgrpc::store {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> split_fields(std::string_view line) {
  std::vector<std::string> fields;
  std::size_t pos = 0;
  for (;;) {
    std::size_t nul = line.find('\0', pos);
    fields.emplace_back(line.substr(pos, nul == std::string_view::npos ? std::string_view::npos : nul - pos));
    if (nul == std::string_view::npos) return fields;
    pos = nul + 1;
  }
}

std::optional<std::uint64_t> parse_number(const std::string& text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::uint32_t get32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

// Puts the first `revs` revisions of a split revlog back into one inline
// file (entries interleaved with their chunks, the inline flag set again):
// the bytes the file had before the split.
Result<void> reinline(const fs::path& index_path, const fs::path& data_path, std::uint64_t revs) {
  auto index = read_file(index_path, std::uint64_t{1} << 32);
  if (!index) return hgrpc::unexpected<Error>(index.error());
  Bytes out;
  if (*index && revs > 0) {
    const Bytes& entries = **index;
    if (entries.size() < revs * kIndexEntrySize) {
      return fail(index_path.string() + ": holds fewer than the " + std::to_string(revs) +
                  " revisions the journal recorded");
    }
    auto data = read_file(data_path, std::uint64_t{1} << 40);
    if (!data) return hgrpc::unexpected<Error>(data.error());
    Bytes empty;
    const Bytes& chunks = *data ? **data : empty;
    for (std::uint64_t r = 0; r < revs; ++r) {
      const std::uint8_t* e = entries.data() + r * kIndexEntrySize;
      std::uint64_t offset = r == 0 ? 0 : (std::uint64_t{get32(e)} << 32 | get32(e + 4)) >> 16;
      std::uint64_t length = get32(e + 8);
      if (offset + length > chunks.size()) {
        return fail(data_path.string() + ": rev " + std::to_string(r) + " lies past the end of the file");
      }
      out.insert(out.end(), e, e + kIndexEntrySize);
      if (r == 0) {
        std::uint32_t word = get32(e) | kFlagInline;
        for (int i = 0; i < 4; ++i) out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(word >> (24 - 8 * i));
      }
      out.insert(out.end(), chunks.begin() + static_cast<std::ptrdiff_t>(offset),
                 chunks.begin() + static_cast<std::ptrdiff_t>(offset + length));
    }
  }
  if (auto w = replace_file(index_path, out); !w) return w;
  std::error_code ec;
  fs::remove(data_path, ec);
  return {};
}

bool index_is_inline(const fs::path& index_path) {
  auto bytes = read_file(index_path, 4096 + kIndexEntrySize);
  if (!bytes || !*bytes || (*bytes)->size() < 4) return true;  // nothing was rewritten
  return (get32((*bytes)->data()) & kFlagInline) != 0;
}

// Applies one journal record (in rollback order).
Result<void> undo(const fs::path& store, const std::vector<std::string>& f, std::size_t line_number) {
  auto bad = [&] { return fail((store / kJournalName).string() + ": line " + std::to_string(line_number) + " is malformed"); };
  std::error_code ec;
  if (f[0] == "size" && f.size() == 3) {
    auto size = parse_number(f[2]);
    if (!size) return bad();
    if (!fs::exists(store / f[1])) return {};
    return truncate_file(store / f[1], *size);
  }
  if (f[0] == "new" && f.size() == 2) {
    fs::remove(store / f[1], ec);
    if (ec) return fail((store / f[1]).string() + ": cannot remove: " + ec.message());
    return {};
  }
  if (f[0] == "split" && f.size() == 5) {
    auto inline_size = parse_number(f[3]);
    auto revs = parse_number(f[4]);
    if (!inline_size || !revs) return bad();
    if (!index_is_inline(store / f[1])) return reinline(store / f[1], store / f[2], *revs);
    fs::remove(store / f[2], ec);
    if (!fs::exists(store / f[1])) return {};
    return truncate_file(store / f[1], *inline_size);
  }
  if (f[0] == "backup" && f.size() == 3) {
    if (f[2].empty()) {
      fs::remove(store / f[1], ec);  // the file did not exist before
      return {};
    }
    fs::rename(store / f[2], store / f[1], ec);
    if (ec && fs::exists(store / f[2])) return fail((store / f[1]).string() + ": cannot restore the backup: " + ec.message());
    return {};
  }
  return bad();
}

Result<void> play_back(const fs::path& store, std::string_view journal) {
  std::vector<std::vector<std::string>> records;
  std::size_t pos = 0;
  while (pos < journal.size()) {
    std::size_t nl = journal.find('\n', pos);
    if (nl == std::string_view::npos) break;  // a record cut short: its change never started
    records.push_back(split_fields(journal.substr(pos, nl - pos)));
    pos = nl + 1;
  }
  for (std::size_t i = records.size(); i-- > 0;) {
    if (auto u = undo(store, records[i], i + 1); !u) return u;
  }
  std::error_code ec;
  for (const auto& r : records) {  // backups are no longer needed once every record is undone
    if (r[0] == "backup" && r.size() == 3 && !r[2].empty()) fs::remove(store / r[2], ec);
  }
  fs::remove(store / kJournalName, ec);
  if (ec) return fail((store / kJournalName).string() + ": cannot remove: " + ec.message());
  return {};
}

}  // namespace

Result<bool> recover(const fs::path& store_dir) {
  auto journal = read_file(store_dir / kJournalName, std::uint64_t{64} << 20);
  if (!journal) return hgrpc::unexpected<Error>(journal.error());
  if (!*journal) return false;
  if (auto p = play_back(store_dir, as_chars(**journal)); !p) return hgrpc::unexpected<Error>(p.error());
  return true;
}

Result<Transaction> Transaction::begin(const fs::path& store_dir) {
  fs::path path = store_dir / kJournalName;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0666);
  if (fd < 0) {
    if (errno == EEXIST) return fail(path.string() + ": an abandoned transaction exists (recover it first)");
    return fail(system_error(path, "cannot create the journal"));
  }
  Transaction tx(store_dir);
  tx.journal_fd_ = fd;
  tx.active_ = true;
  return tx;
}

Transaction::Transaction(Transaction&& other) noexcept
    : store_dir_(std::move(other.store_dir_)),
      journal_fd_(other.journal_fd_),
      active_(other.active_),
      backups_(other.backups_),
      tracked_(std::move(other.tracked_)) {
  other.journal_fd_ = -1;
  other.active_ = false;
}

Transaction::~Transaction() {
  if (active_) (void)rollback();
  if (journal_fd_ >= 0) ::close(journal_fd_);
}

Result<void> Transaction::record(const std::string& line) {
  if (!active_) return fail((store_dir_ / kJournalName).string() + ": the transaction is over");
  std::string text = line + "\n";
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(journal_fd_, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(system_error(store_dir_ / kJournalName, "write"));
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Result<void> Transaction::track_append(const std::string& path) {
  std::lock_guard lock(mutex_);
  return track_append_locked(path);
}

Result<void> Transaction::track_append_locked(const std::string& path) {
  if (tracked_.contains(path)) return {};
  std::error_code ec;
  auto size = fs::file_size(store_dir_ / path, ec);
  std::string line = ec ? "new" + std::string(1, '\0') + path
                        : "size" + std::string(1, '\0') + path + '\0' + std::to_string(size);
  if (auto r = record(line); !r) return r;
  tracked_.insert(path);
  return {};
}

Result<void> Transaction::track_split(const std::string& index, const std::string& data,
                                      std::uint64_t inline_size, int revs) {
  std::lock_guard lock(mutex_);
  if (auto r = track_append_locked(index); !r) return r;
  if (auto r = record("split" + std::string(1, '\0') + index + '\0' + data + '\0' + std::to_string(inline_size) +
                      '\0' + std::to_string(revs));
      !r) {
    return r;
  }
  tracked_.insert(data);  // the split record owns the data file
  return {};
}

Result<void> Transaction::track_replace(const std::string& path) {
  std::lock_guard lock(mutex_);
  if (tracked_.contains(path)) return {};
  std::string backup;
  if (fs::exists(store_dir_ / path)) {
    backup = std::string(kJournalName) + ".backup." + std::to_string(backups_++);
    std::error_code ec;
    fs::copy_file(store_dir_ / path, store_dir_ / backup, fs::copy_options::overwrite_existing, ec);
    if (ec) return fail((store_dir_ / path).string() + ": cannot back up: " + ec.message());
  }
  if (auto r = record("backup" + std::string(1, '\0') + path + '\0' + backup); !r) return r;
  tracked_.insert(path);
  return {};
}

Result<void> Transaction::commit() {
  if (!active_) return fail((store_dir_ / kJournalName).string() + ": the transaction is over");
  active_ = false;
  ::close(journal_fd_);
  journal_fd_ = -1;
  std::error_code ec;
  for (int i = 0; i < backups_; ++i) fs::remove(store_dir_ / (std::string(kJournalName) + ".backup." + std::to_string(i)), ec);
  fs::remove(store_dir_ / kJournalName, ec);
  if (ec) return fail((store_dir_ / kJournalName).string() + ": cannot remove: " + ec.message());
  return {};
}

Result<void> Transaction::rollback() {
  if (!active_) return fail((store_dir_ / kJournalName).string() + ": the transaction is over");
  active_ = false;
  ::close(journal_fd_);
  journal_fd_ = -1;
  auto result = recover(store_dir_);
  if (!result) return hgrpc::unexpected<Error>(result.error());
  return {};
}

}  // namespace hgrpc::store
