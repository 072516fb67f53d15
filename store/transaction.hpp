#pragma once
// A write transaction over a store directory, in the manner of Mercurial's
// journal: before a file is first touched, its original state is recorded in
// a journal file; commit() deletes the journal, rollback() (also run by the
// destructor of an uncommitted transaction, and by recover() on the next run
// after a killed process) restores every recorded file and deletes the
// journal.
//
// The journal is <store>/hgrpc-journal (not Mercurial's "journal": our
// records include inline-to-split conversions, which Mercurial's format
// cannot express, and `hg recover` must not misread them). Each record is a
// line of NUL-separated fields, written (and flushed to the kernel, as
// Mercurial does, no fsync) before the change it describes:
//   size   \0 <path> \0 <original size>   append-only file: truncate back
//   new    \0 <path>                       file created: remove
//   split  \0 <index> \0 <data> \0 <inline size> \0 <revs>
//                                          inline revlog turned into .i + .d:
//                                          put the first <revs> revisions back
//                                          inline (or, if the rewrite never
//                                          happened, truncate the .i) and remove
//                                          the .d
//   backup \0 <path> \0 <backup name>      file rewritten whole: the backup
//                                          holds the original
// Rollback applies the records newest first. Paths are relative to the store
// directory.
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>

#include "store/error.hpp"

namespace hgrpc::store {

inline constexpr const char* kJournalName = "hgrpc-journal";

class Transaction {
 public:
  // Fails if an abandoned journal exists (call recover() first).
  static Result<Transaction> begin(const std::filesystem::path& store_dir);

  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  ~Transaction();  // rolls back unless committed

  // The track_* calls may come from several threads at once (the writers
  // of different revlogs); commit and rollback from one, after them.
  //
  // Records `path`'s size (or that it does not exist) before its first
  // change in this transaction. Later calls for the same path do nothing.
  Result<void> track_append(const std::string& path);
  // Records an inline revlog (index path, its size now, its revision count
  // now) about to be split into an index and `data` file.
  Result<void> track_split(const std::string& index, const std::string& data, std::uint64_t inline_size,
                           int revs);
  // Keeps a copy of `path` before it is replaced whole (or notes it is new).
  Result<void> track_replace(const std::string& path);

  const std::filesystem::path& store_dir() const { return store_dir_; }
  Result<void> commit();
  Result<void> rollback();

 private:
  explicit Transaction(std::filesystem::path store_dir) : store_dir_(std::move(store_dir)) {}
  Result<void> record(const std::string& line);
  Result<void> track_append_locked(const std::string& path);

  std::mutex mutex_;  // guards the journal and tracked_ for the track_* calls

  std::filesystem::path store_dir_;
  int journal_fd_ = -1;
  bool active_ = false;
  int backups_ = 0;
  std::set<std::string> tracked_;
};

// Rolls back an abandoned journal in `store_dir`, if there is one. Returns
// whether there was. A journal that cannot be parsed is an error naming its
// line; nothing is changed then.
Result<bool> recover(const std::filesystem::path& store_dir);

}  // namespace hgrpc::store
