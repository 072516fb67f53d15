#pragma once
// Writes into an existing repository's store inside one transaction: the
// changelog, the manifest log and filelogs (RevlogWriter each), fncache
// entries for new revlog files, phaseroots and bookmarks. open() first rolls
// back a journal an interrupted run left (see transaction.hpp); commit()
// writes fncache, phaseroots and bookmarks, then ends the transaction; a
// writer dropped without commit() rolls everything back.
//
// Formats follow the repository's requirements: revlog-compression-zstd
// selects zstd (else zlib; exp-compression-none stores plain), generaldelta
// applies to new manifest and filelogs (never to the changelog, which 6.3.2
// creates without it), and the store kind picks the path encoding.
#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/error.hpp"
#include "store/phases.hpp"
#include "store/requirements.hpp"
#include "store/revlog_writer.hpp"

namespace hgrpc::store {

struct RepositoryWriterOptions {
  RevlogWriterOptions revlog;      // compression is set from the requirements
  std::size_t max_open_filelogs = 64;  // filelog writers kept open at once
};

class RepositoryWriter {
 public:
  static Result<RepositoryWriter> open(const std::filesystem::path& root, const RepositoryWriterOptions& options = {});

  RepositoryWriter(RepositoryWriter&&) noexcept;
  RepositoryWriter& operator=(RepositoryWriter&&) noexcept;
  ~RepositoryWriter();

  const RepositoryLayout& layout() const;
  RevlogWriter& changelog();
  RevlogWriter& manifestlog();
  // The filelog of a tracked path, validated first (validate_tracked_path).
  Result<RevlogWriter*> filelog(const std::string& path);
  // Closes the filelog of `path` if it is open (fncache entries noted, its
  // writer and text cache freed); filelog(path) opens it again. A fetch
  // closes each path's filelog once that path's revisions are written.
  //
  // filelog() and close_filelog() may be called from several threads, each
  // filelog then used by one thread at a time; the caller keeps fewer
  // filelogs open than max_open_filelogs (opening one past it closes the
  // oldest, which must not be in use).
  Result<void> close_filelog(const std::string& path);

  // Replaced at commit (phaseroots unchanged if never called).
  void set_phase_roots(std::vector<PhaseRoot> roots);
  void set_bookmarks(std::map<std::string, Node> marks);
  // Writes what was set now, inside the transaction, rather than at commit:
  // a pull writes them before its changelog revisions (readers ignore roots
  // and bookmarks on nodes the changelog lacks).
  Result<void> write_phases_and_bookmarks();

  Result<void> commit();

 private:
  struct State;
  explicit RepositoryWriter(std::unique_ptr<State> state);
  Result<void> note_fncache(const std::string& path, const RevlogWriter& writer);
  std::unique_ptr<State> state_;
};

}  // namespace hgrpc::store
