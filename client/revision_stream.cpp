#include "client/revision_stream.hpp"

namespace hgrpc::client {
namespace {

using framing::json;

hgrpc::unexpected<ClientError> malformed(const std::string& message) { return client_fail(ErrorKind::Protocol, message); }

constexpr std::uint64_t kNoCount = ~std::uint64_t{0};

std::uint64_t count_of(const json& v, const char* key) {
  return v.is_object() && v.contains(key) && v.at(key).is_number_unsigned() ? v.at(key).get<std::uint64_t>() : kNoCount;
}

}  // namespace

std::optional<store::Node> node_of(const json& v) {
  if (!v.is_binary()) return std::nullopt;
  return store::node_from_bytes(store::ByteView(v.get_binary().data(), v.get_binary().size()));
}

ClientResult<RevisionRecord> parse_revision_record(const std::string& what, const json& rec, std::uint64_t index) {
  if (!rec.is_object()) return malformed(what + ": revision record " + std::to_string(index) + " is missing");
  auto node = rec.contains("node") ? node_of(rec.at("node")) : std::nullopt;
  if (!node) return malformed(what + ": record " + std::to_string(index) + " has no 20-byte node");
  RevisionRecord out;
  out.node = *node;
  out.where = what + ": node " + store::hex(*node) + ": ";
  if (!rec.contains("parents") || !rec.at("parents").is_array() || rec.at("parents").size() != 2) {
    return malformed(out.where + "no parents");
  }
  auto p1 = node_of(rec.at("parents")[0]);
  auto p2 = node_of(rec.at("parents")[1]);
  if (!p1 || !p2) return malformed(out.where + "parents are not 20-byte nodes");
  out.p1 = *p1;
  out.p2 = *p2;
  if (!rec.contains("fieldsfollowing") || !rec.at("fieldsfollowing").is_array() || rec.at("fieldsfollowing").size() != 1) {
    return malformed(out.where + "expected exactly one field following");
  }
  const json& field = rec.at("fieldsfollowing")[0];
  out.kind = field.is_array() && !field.empty() ? framing::bytes_or_text(field[0]) : std::nullopt;
  // Judged with the data (as the whole-response reader did): a missing data
  // value is reported before a bad delta base.
  if (rec.contains("deltabasenode")) out.delta_base = node_of(rec.at("deltabasenode"));
  if (rec.contains("linknode")) out.linknode = node_of(rec.at("linknode"));
  return out;
}

hgrpc::unexpected<ClientError> data_missing(const RevisionRecord& record) { return malformed(record.where + "its data is missing"); }

ClientResult<store::IncomingRevision> revision_with_data(const RevisionRecord& record, const json& value) {
  if (!value.is_binary()) return data_missing(record);
  const auto& data = value.get_binary();
  store::IncomingRevision in;
  in.node = record.node;
  in.p1 = record.p1;
  in.p2 = record.p2;
  in.data = store::ByteView(data.data(), data.size());
  if (record.kind == "delta") {
    if (!record.delta_base) return malformed(record.where + "a delta without a 20-byte deltabasenode");
    in.delta_base = *record.delta_base;
  } else if (record.kind != "revision") {
    return malformed(record.where + "unknown field following (expected revision or delta)");
  }
  return in;
}

RevisionStream::RevisionStream(Command command, std::uint64_t asked, OnPath on_path, OnRecord on_record,
                               OnRevision on_revision)
    : command_(command),
      asked_(asked),
      on_path_(std::move(on_path)),
      on_record_(std::move(on_record)),
      on_revision_(std::move(on_revision)) {}

RevisionStream RevisionStream::manifests(std::uint64_t asked, OnRevision on_revision) {
  return RevisionStream(Command::Manifests, asked, {}, {}, std::move(on_revision));
}

RevisionStream RevisionStream::files(OnPath on_path, OnRevision on_revision) {
  return RevisionStream(Command::Files, 0, std::move(on_path), {}, std::move(on_revision));
}

RevisionStream RevisionStream::changesets(OnRecord on_record, OnRevision on_revision) {
  return RevisionStream(Command::Changesets, 0, {}, std::move(on_record), std::move(on_revision));
}

std::string RevisionStream::what() const {
  switch (command_) {
    case Command::Changesets: return "changesetdata";
    case Command::Manifests: return "manifestdata";
    case Command::Files: return "filesdata: " + path_;
  }
  return {};
}

RevisionStream::State RevisionStream::after_items() const {
  if (command_ == Command::Changesets) return State::Record;  // until the response ends
  if (command_ == Command::Files && path_index_ < paths_) return State::PathHeader;
  return State::Done;
}

ClientResult<void> RevisionStream::feed(json&& value) {
  switch (state_) {
    case State::Header: return on_header(value);
    case State::PathHeader: return on_path_header(value);
    case State::Record: return on_record(value);
    case State::Data: return on_data(value);
    case State::Done: return {};
  }
  return {};
}

ClientResult<void> RevisionStream::on_header(const json& value) {
  if (command_ == Command::Changesets) {
    if (count_of(value, "totalitems") == kNoCount) return malformed("changesetdata: no totalitems header");
    state_ = State::Record;
    return {};
  }
  if (command_ == Command::Manifests) {
    items_ = count_of(value, "totalitems");
    if (items_ != asked_) return malformed("manifestdata: totalitems does not match the " + std::to_string(asked_) + " nodes asked for");
    state_ = items_ > 0 ? State::Record : State::Done;
    return {};
  }
  paths_ = count_of(value, "totalpaths");
  if (paths_ == kNoCount) return malformed("filesdata: no totalpaths header");
  state_ = after_items();
  return {};
}

ClientResult<void> RevisionStream::on_path_header(const json& value) {
  auto path = value.is_object() && value.contains("path") ? framing::bytes_or_text(value.at("path")) : std::nullopt;
  const std::uint64_t n = count_of(value, "totalitems");
  if (!path || n == kNoCount) return malformed("filesdata: a path header without path or totalitems");
  path_ = std::move(*path);
  items_ = n;
  item_ = 0;
  if (on_path_) {
    if (auto ok = on_path_(path_, path_index_, n); !ok) return ok;
  }
  ++path_index_;
  state_ = n > 0 ? State::Record : after_items();
  return {};
}

ClientResult<void> RevisionStream::on_record(const json& value) {
  if (on_record_) {
    auto follows = on_record_(value);
    if (!follows) return hgrpc::unexpected<ClientError>(follows.error());
    if (!*follows) return {};
  }
  auto record = parse_revision_record(what(), value, item_);
  if (!record) return hgrpc::unexpected<ClientError>(record.error());
  record_ = std::move(*record);
  state_ = State::Data;
  return {};
}

ClientResult<void> RevisionStream::on_data(const json& value) {
  auto revision = revision_with_data(*record_, value);
  if (!revision) return hgrpc::unexpected<ClientError>(revision.error());
  if (auto ok = on_revision_(*revision, *record_); !ok) return ok;
  record_.reset();
  ++item_;
  state_ = command_ == Command::Changesets || item_ < items_ ? State::Record : after_items();
  return {};
}

ClientResult<void> RevisionStream::finish() const {
  switch (state_) {
    case State::Header:
      if (command_ == Command::Changesets) return malformed("changesetdata: no totalitems header");
      if (command_ == Command::Manifests) {
        return malformed("manifestdata: totalitems does not match the " + std::to_string(asked_) + " nodes asked for");
      }
      return malformed("filesdata: no totalpaths header");
    case State::PathHeader: return malformed("filesdata: path " + std::to_string(path_index_) + " is missing");
    case State::Record:
      if (command_ == Command::Changesets) return {};
      return malformed(what() + ": revision record " + std::to_string(item_) + " is missing");
    case State::Data: return data_missing(*record_);
    case State::Done: return {};
  }
  return {};
}

}  // namespace hgrpc::client
