#pragma once
// The revision records of changesetdata, manifestdata and filesdata read one
// value at a time, as the response arrives (so a response is never held
// whole): a record map, then the byte string its `fieldsfollowing` announces.
//
// RevisionStream is the state machine of the three responses:
//
//   state        value                       next
//   header       {totalitems} (changesetdata) record
//                {totalitems} (manifestdata) record, or done when 0
//                {totalpaths} (filesdata)    path-header, or done when 0
//   path-header  {path, totalitems}          record, or the next path-header
//                                            (done after the last) when 0
//   record       {node, parents, ...}        data; changesetdata: record when
//                                            no field follows (phase, bookmarks)
//   data         byte string                 record, path-header or done
//                                            (changesetdata: record)
//   done         anything                    done (ignored, as it always was)
//
// Every other value is the error its state names; finish() in a state other
// than done names what is missing (changesetdata: it may end in record).
// Messages start with the command (and the path, for a file's records):
// "manifestdata: node <hex>: its data is missing".
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "client/errors.hpp"
#include "framing/cbor.hpp"
#include "store/node.hpp"
#include "store/revlog_writer.hpp"

namespace hgrpc::client {

// A revision record's fields; its data is the next value.
struct RevisionRecord {
  store::Node node{};
  store::Node p1{};
  store::Node p2{};
  std::optional<std::string> kind;         // the field following: "revision" or "delta"
  std::optional<store::Node> delta_base;   // deltabasenode, when it is a 20-byte node
  std::optional<store::Node> linknode;     // filesdata's linknode, when it is a 20-byte node
  std::string where;                       // "<what>: node <hex>: " for messages
};

std::optional<store::Node> node_of(const framing::json& v);

// The record `index` (counted from 0 within its response or path) of `what`
// ("manifestdata", "filesdata: <path>", "changesetdata").
ClientResult<RevisionRecord> parse_revision_record(const std::string& what, const framing::json& value,
                                                   std::uint64_t index);
// The revision of `record` whose data is `value` (a byte string, which must
// outlive the result: data points into it).
ClientResult<store::IncomingRevision> revision_with_data(const RevisionRecord& record, const framing::json& value);
// The message when a record's data never came (the response ended).
hgrpc::unexpected<ClientError> data_missing(const RevisionRecord& record);

class RevisionStream {
 public:
  // filesdata: a path header was read; its items follow.
  using OnPath = std::function<ClientResult<void>(const std::string& path, std::uint64_t path_index,
                                                  std::uint64_t items)>;
  // A complete revision (its data valid during the call only) and its record.
  using OnRevision = std::function<ClientResult<void>(store::IncomingRevision& revision, const RevisionRecord& record)>;
  // changesetdata: a record map, before it is read as a revision record;
  // returns whether a revision (a field) follows.
  using OnRecord = std::function<ClientResult<bool>(const framing::json& record)>;

  // manifestdata for `asked` nodes: totalitems must equal it.
  static RevisionStream manifests(std::uint64_t asked, OnRevision on_revision);
  static RevisionStream files(OnPath on_path, OnRevision on_revision);
  static RevisionStream changesets(OnRecord on_record, OnRevision on_revision);

  ClientResult<void> feed(framing::json&& value);
  // The response is complete: an error unless the last item was read.
  ClientResult<void> finish() const;

  enum class State { Header, PathHeader, Record, Data, Done };
  State state() const { return state_; }
  std::uint64_t paths() const { return paths_; }  // filesdata: totalpaths, once the header was read

 private:
  enum class Command { Changesets, Manifests, Files };
  RevisionStream(Command command, std::uint64_t asked, OnPath on_path, OnRecord on_record, OnRevision on_revision);
  ClientResult<void> on_header(const framing::json& value);
  ClientResult<void> on_path_header(const framing::json& value);
  ClientResult<void> on_record(const framing::json& value);
  ClientResult<void> on_data(const framing::json& value);
  // After a path's last item (or the header): the state that comes next.
  State after_items() const;
  std::string what() const;

  Command command_;
  std::uint64_t asked_;
  OnPath on_path_;
  OnRecord on_record_;
  OnRevision on_revision_;
  State state_ = State::Header;
  std::uint64_t paths_ = 0;       // filesdata: totalpaths
  std::uint64_t path_index_ = 0;  // filesdata: path headers read
  std::string path_;              // filesdata: the current path
  std::uint64_t items_ = 0;       // records in the response (manifests) or the current path (files)
  std::uint64_t item_ = 0;        // revisions read of those (changesets: of the response)
  std::optional<RevisionRecord> record_;  // state Data: the record whose data comes next
};

}  // namespace hgrpc::client
