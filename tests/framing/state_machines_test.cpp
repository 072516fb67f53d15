// Every cell of the transition tables of the server reactor, the input
// streams, the frame reader and the client reactor: each legal transition
// and each illegal one with its named error. Frames are written in
// Mercurial's human notation so that each case reads like the table row.
#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "framing/client_reactor.hpp"
#include "framing/frame_reader.hpp"
#include "framing/human_notation.hpp"
#include "framing/server_reactor.hpp"
#include "framing/stream.hpp"
#include "tests/support/test_support.hpp"

using namespace hgrpc::framing;
using SS = ServerState;

namespace {

OwnedFrame F(std::string_view line) {
  auto f = parse_human_frame(line);
  REQUIRE_MESSAGE(f.has_value(), std::string(line));
  return std::move(*f);
}

// "{sf}" in a line: stream-begin when the stream is not open yet, else 0.
std::string with_begin(std::string line, bool open) {
  auto at = line.find("{sf}");
  if (at != std::string::npos) line.replace(at, 4, open ? "0" : "stream-begin");
  return line;
}

// ---- server reactor -------------------------------------------------------

// Frames that bring a fresh reactor into each state. command-receiving holds
// two requests: 1 (its first half; the rest is the continuation event) and
// 3 (complete, waiting for its data).
std::vector<std::string> server_setup(ServerState s) {
  switch (s) {
    case SS::Initial: return {};
    case SS::ProtocolSettingsReceiving: return {"1 1 stream-begin sender-protocol-settings continuation \\xa1P"};
    case SS::Idle: return {"1 1 stream-begin sender-protocol-settings eos cbor:{b'contentencodings': [b'identity']}"};
    case SS::CommandReceiving:
      return {"1 1 stream-begin command-request new|more \\xa1Dname", "3 1 0 command-request new|have-data cbor:{b'name': b'y'}"};
    case SS::Errored: return {"1 1 stream-begin 12 0 "};
  }
  return {};
}

std::string server_event_line(ServerEvent e, ServerState s) {
  switch (e) {
    case ServerEvent::ProtocolSettings:
      return s == SS::ProtocolSettingsReceiving ? "1 1 0 sender-protocol-settings eos contentencodings\\x81Hidentity"
                                                : "1 1 {sf} sender-protocol-settings eos cbor:{b'contentencodings': [b'identity']}";
    case ServerEvent::StreamSettings: return "1 3 stream-begin stream-settings eos cbor:b'identity'";
    case ServerEvent::RequestNew: return "5 1 {sf} command-request new cbor:{b'name': b'x'}";
    case ServerEvent::RequestContinuation: return "1 1 {sf} command-request continuation Ax";
    case ServerEvent::RequestBadFlags: return "7 1 {sf} command-request new|continuation cbor:{b'name': b'x'}";
    case ServerEvent::CommandData: return "3 1 {sf} command-data eos abc";
  }
  return "";
}

// Expected outcome of one cell: the next state, and a RunCommand's request id
// or a ProtocolError's name (nothing: WantFrame).
struct ServerOutcome {
  ServerState next;
  std::optional<std::uint16_t> run;
  std::string_view error;
};

ServerOutcome ok(ServerState next) { return {next, std::nullopt, {}}; }
ServerOutcome run(ServerState next, std::uint16_t id) { return {next, id, {}}; }
ServerOutcome err(ServerError e) { return {SS::Errored, std::nullopt, server_error_name(e)}; }

}  // namespace

TEST_CASE("server reactor: every cell of the transition table") {
  using E = ServerEvent;
  using X = ServerError;
  const ServerOutcome ps_not_first = err(X::ProtocolSettingsNotFirst);
  const ServerOutcome expect = err(X::ExpectedProtocolSettings);
  const ServerOutcome not_recv = err(X::RequestNotReceiving);
  const ServerOutcome flags = err(X::RequestFlags);
  const ServerOutcome dead = err(X::AlreadyErrored);
  const std::map<std::pair<ServerState, ServerEvent>, ServerOutcome> table = {
      {{SS::Initial, E::ProtocolSettings}, ok(SS::Idle)},
      {{SS::Initial, E::StreamSettings}, ok(SS::Idle)},
      {{SS::Initial, E::RequestNew}, run(SS::Idle, 5)},
      {{SS::Initial, E::RequestContinuation}, not_recv},
      {{SS::Initial, E::RequestBadFlags}, flags},
      {{SS::Initial, E::CommandData}, not_recv},
      {{SS::ProtocolSettingsReceiving, E::ProtocolSettings}, ok(SS::Idle)},
      {{SS::ProtocolSettingsReceiving, E::StreamSettings}, err(X::StreamSettingsInProtocolSettings)},
      {{SS::ProtocolSettingsReceiving, E::RequestNew}, expect},
      {{SS::ProtocolSettingsReceiving, E::RequestContinuation}, expect},
      {{SS::ProtocolSettingsReceiving, E::RequestBadFlags}, expect},
      {{SS::ProtocolSettingsReceiving, E::CommandData}, expect},
      {{SS::Idle, E::ProtocolSettings}, ps_not_first},
      {{SS::Idle, E::StreamSettings}, ok(SS::Idle)},
      {{SS::Idle, E::RequestNew}, run(SS::Idle, 5)},
      {{SS::Idle, E::RequestContinuation}, not_recv},
      {{SS::Idle, E::RequestBadFlags}, flags},
      {{SS::Idle, E::CommandData}, not_recv},
      {{SS::CommandReceiving, E::ProtocolSettings}, ps_not_first},
      {{SS::CommandReceiving, E::StreamSettings}, ok(SS::CommandReceiving)},
      {{SS::CommandReceiving, E::RequestNew}, run(SS::CommandReceiving, 5)},
      {{SS::CommandReceiving, E::RequestContinuation}, run(SS::CommandReceiving, 1)},
      {{SS::CommandReceiving, E::RequestBadFlags}, flags},
      {{SS::CommandReceiving, E::CommandData}, run(SS::CommandReceiving, 3)},
      {{SS::Errored, E::ProtocolSettings}, dead},
      {{SS::Errored, E::StreamSettings}, dead},
      {{SS::Errored, E::RequestNew}, dead},
      {{SS::Errored, E::RequestContinuation}, dead},
      {{SS::Errored, E::RequestBadFlags}, dead},
      {{SS::Errored, E::CommandData}, dead},
  };
  CHECK(table.size() == 30);
  for (const auto& [key, want] : table) {
    const auto state = key.first;
    const auto event = key.second;
    CAPTURE(server_state_name(state));
    CAPTURE(server_event_name(event));
    ServerReactor r;
    const auto setup = server_setup(state);
    for (const auto& line : setup) (void)r.on_frame(F(line).view());
    REQUIRE(r.state() == state);
    const OwnedFrame f = F(with_begin(server_event_line(event, state), !setup.empty()));
    ServerAction a = r.on_frame(f.view());
    CHECK(server_state_name(r.state()) == server_state_name(want.next));
    if (!want.error.empty()) {
      REQUIRE(std::holds_alternative<ProtocolError>(a));
      CHECK(std::get<ProtocolError>(a).name == want.error);
    } else if (want.run) {
      REQUIRE(std::holds_alternative<RunCommand>(a));
      CHECK(std::get<RunCommand>(a).request_id == *want.run);
    } else {
      CHECK(std::holds_alternative<WantFrame>(a));
    }
  }
}

TEST_CASE("server reactor: the last request being received completes -> idle") {
  ServerReactor r;
  (void)r.on_frame(F("1 1 stream-begin command-request new|have-data cbor:{b'name': b'x'}").view());
  CHECK(r.state() == SS::CommandReceiving);
  (void)r.on_frame(F("1 1 0 command-data continuation ab").view());
  CHECK(r.state() == SS::CommandReceiving);
  auto a = r.on_frame(F("1 1 0 command-data eos c").view());
  REQUIRE(std::holds_alternative<RunCommand>(a));
  CHECK(*std::get<RunCommand>(a).data == to_bytes("abc"));
  CHECK(r.state() == SS::Idle);
  CHECK_FALSE(r.on_input_end().has_value());
}

namespace {

std::string_view server_error_after(const std::vector<std::string>& lines, ServerReactorOptions o = {}) {
  ServerReactor r(o);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto a = r.on_frame(F(lines[i]).view());
    if (auto* e = std::get_if<ProtocolError>(&a)) {
      CHECK(i + 1 == lines.size());  // the last frame is the bad one
      CHECK(r.state() == SS::Errored);
      return e->name;
    }
  }
  auto end = r.on_input_end();
  REQUIRE(end.has_value());
  CHECK(r.state() == SS::Errored);
  return end->name;
}

}  // namespace

TEST_CASE("server reactor: the named errors inside the cells") {
  using X = ServerError;
  auto name = [](X e) { return server_error_name(e); };
  const std::string req = "command-request new cbor:{b'name': b'x'}";
  CHECK(server_error_after({"1 1 stream-begin 12 0 "}) == header_error_name(HeaderError::UnknownFrameType));
  CHECK(server_error_after({"1 1 stream-begin command-data 4 "}) == header_error_name(HeaderError::UndefinedFlags));
  CHECK(server_error_after({"1 1 stream-begin command-response eos "}) == header_error_name(HeaderError::WrongSender));
  CHECK(server_error_after({"1 2 stream-begin " + req}) == stream_error_name(StreamError::WrongParity));
  CHECK(server_error_after({"1 1 stream-begin sender-protocol-settings continuation|eos "}) ==
        name(X::ProtocolSettingsFlags));
  CHECK(server_error_after({"1 1 stream-begin sender-protocol-settings 0 "}) == name(X::ProtocolSettingsFlags));
  ServerReactorOptions small;
  small.max_protocol_settings_bytes = 2;
  CHECK(server_error_after({"1 1 stream-begin sender-protocol-settings eos abc"}, small) ==
        name(X::ProtocolSettingsTooLarge));
  CHECK(server_error_after({"1 1 stream-begin sender-protocol-settings eos cbor:[]"}) ==
        name(X::ProtocolSettingsInvalid));
  CHECK(server_error_after({"1 1 stream-begin command-request 0 cbor:{b'name': b'x'}"}) == name(X::RequestFlags));
  CHECK(server_error_after({"1 1 stream-begin command-request new|more \\xa1", "1 1 0 " + req}) ==
        name(X::RequestIdInUse));
  CHECK(server_error_after({"1 1 stream-begin " + req, "1 1 0 " + req}) == name(X::RequestIdInUse));  // active
  ServerReactorOptions one;
  one.max_receiving_requests = 1;
  CHECK(server_error_after({"1 1 stream-begin command-request new|more \\xa1", "3 1 0 command-request new|more \\xa1"},
                           one) == name(X::TooManyRequests));
  CHECK(server_error_after({"1 1 stream-begin command-request new|have-data cbor:{b'name': b'x'}",
                            "1 1 0 command-request continuation "}) == name(X::RequestAfterLastFrame));
  CHECK(server_error_after({"1 1 stream-begin command-request new|more \\xa1",
                            "1 1 0 command-request continuation|have-data Dname"}) == name(X::HaveDataMismatch));
  ServerReactorOptions tiny;
  tiny.max_request_bytes = 4;
  CHECK(server_error_after({"1 1 stream-begin " + req}, tiny) == name(X::RequestTooLarge));
  CHECK(server_error_after({"1 1 stream-begin command-request new|more \\xa1", "1 1 0 command-data eos "}) ==
        name(X::DataNotAnnounced));
  CHECK(server_error_after({"1 1 stream-begin command-request new|more|have-data \\xa1", "1 1 0 command-data eos "}) ==
        name(X::DataBeforeRequestEnd));
  CHECK(server_error_after({"1 1 stream-begin command-request new|have-data cbor:{b'name': b'x'}",
                            "1 1 0 command-data continuation|eos "}) == name(X::DataFlags));
  CHECK(server_error_after({"1 1 stream-begin command-request new cbor:{b'nom': b'x'}"}) ==
        name(X::RequestPayloadInvalid));
  CHECK(server_error_after({"1 1 stream-begin sender-protocol-settings continuation \\xa1"}) ==
        name(X::InputEndInProtocolSettings));
  CHECK(server_error_after({"1 1 stream-begin command-request new|more \\xa1"}) == name(X::InputEndInRequest));
  CHECK(server_error_after({"1 1 stream-begin stream-settings continuation \\x48"}) ==
        name(X::InputEndInStreamSettings));
}

// ---- input streams --------------------------------------------------------

namespace {

using St = InputStreamState;

std::vector<std::string> stream_setup(InputStreamState s) {
  switch (s) {
    case St::Fresh: return {};
    case St::SettingsReceiving: return {"1 1 stream-begin stream-settings continuation \\x48iden"};
    case St::Configured: return {"1 1 stream-begin stream-settings eos cbor:b'identity'"};
    case St::Plain: return {"1 1 stream-begin command-data continuation x"};
  }
  return {};
}

}  // namespace

TEST_CASE("input streams: every cell of the transition table") {
  enum Ev { Cont, Eos, Other };
  const char* ev_name[] = {"settings continuation", "settings eos", "other frame"};
  struct Want {
    std::optional<InputStreamState> next;  // nullopt: the named error
    StreamError error = StreamError::None;
  };
  const std::map<std::pair<InputStreamState, int>, Want> table = {
      {{St::Fresh, Cont}, {St::SettingsReceiving}},
      {{St::Fresh, Eos}, {St::Configured}},
      {{St::Fresh, Other}, {St::Plain}},
      {{St::SettingsReceiving, Cont}, {St::SettingsReceiving}},
      {{St::SettingsReceiving, Eos}, {St::Configured}},
      {{St::SettingsReceiving, Other}, {std::nullopt, StreamError::InsideSettings}},
      {{St::Configured, Cont}, {std::nullopt, StreamError::SettingsRepeated}},
      {{St::Configured, Eos}, {std::nullopt, StreamError::SettingsRepeated}},
      {{St::Configured, Other}, {St::Configured}},
      {{St::Plain, Cont}, {std::nullopt, StreamError::SettingsAfterFrames}},
      {{St::Plain, Eos}, {std::nullopt, StreamError::SettingsAfterFrames}},
      {{St::Plain, Other}, {St::Plain}},
  };
  for (const auto& [key, want] : table) {
    const auto state = key.first;
    const auto ev = key.second;
    CAPTURE(input_stream_state_name(state));
    CAPTURE(ev_name[ev]);
    InputStreams streams(true);
    const auto setup = stream_setup(state);
    std::size_t index = 0;
    for (const auto& line : setup) REQUIRE(streams.accept(index++, F(line).view()));
    if (!setup.empty()) REQUIRE(streams.state_of(1) == state);
    const std::string eos_payload = state == St::SettingsReceiving ? "tity" : "cbor:b'identity'";
    const std::string line = ev == Cont  ? "1 1 {sf} stream-settings continuation "
                             : ev == Eos ? "1 1 {sf} stream-settings eos " + eos_payload
                                         : "1 1 {sf} command-data continuation y";
    auto r = streams.accept(index, F(with_begin(line, !setup.empty())).view());
    if (want.next) {
      REQUIRE_MESSAGE(r.has_value(), r.error().message);
      CHECK(streams.state_of(1) == want.next);
      if (ev == Other) {
        REQUIRE(r->has_value());
        CHECK((*r)->payload.size() == 1);
      } else {
        CHECK_FALSE(r->has_value());
      }
    } else {
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error().name == stream_error_name(want.error));
    }
  }
}

TEST_CASE("input streams: opening, closing and the named errors of each frame") {
  auto error_of = [](const std::vector<std::string>& lines, InputStreamLimits limits = {}) -> std::string_view {
    InputStreams streams(true, limits);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      auto r = streams.accept(i, F(lines[i]).view());
      if (!r) {
        CHECK(i + 1 == lines.size());
        return r.error().name;
      }
    }
    FAIL("no error");
    return {};
  };
  auto name = [](StreamError e) { return stream_error_name(e); };
  CHECK(error_of({"1 1 0 command-data eos "}) == name(StreamError::NotOpen));
  CHECK(error_of({"1 1 stream-begin command-data continuation ", "1 1 stream-begin command-data eos "}) ==
        name(StreamError::AlreadyOpen));
  CHECK(error_of({"1 2 stream-begin command-data eos "}) == name(StreamError::WrongParity));
  CHECK(error_of({"1 1 8 command-data eos "}) == name(StreamError::UndefinedStreamFlags));
  InputStreamLimits one;
  one.max_open_streams = 1;
  CHECK(error_of({"1 1 stream-begin command-data continuation ", "1 3 stream-begin command-data eos "}, one) ==
        name(StreamError::TooManyStreams));
  CHECK(error_of({"1 1 stream-begin|encoded stream-settings eos cbor:b'identity'"}) == name(StreamError::SettingsEncoded));
  CHECK(error_of({"1 1 stream-begin stream-settings continuation|eos cbor:b'identity'"}) ==
        name(StreamError::SettingsFlags));
  InputStreamLimits small;
  small.max_settings_bytes = 3;
  CHECK(error_of({"1 1 stream-begin stream-settings eos cbor:b'identity'"}, small) == name(StreamError::SettingsTooLarge));
  CHECK(error_of({"1 1 stream-begin|stream-end stream-settings continuation \\x48"}) ==
        name(StreamError::EndInsideSettings));
  CHECK(error_of({"1 1 stream-begin stream-settings eos cbor:b'gzip'"}) == name(StreamError::SettingsInvalid));
  CHECK(error_of({"1 1 stream-begin|encoded command-data eos x"}) == name(StreamError::EncodedWithoutSettings));
  CHECK(error_of({"1 1 stream-begin stream-settings eos cbor:b'zlib'", "1 1 encoded command-data eos garbage"}) ==
        name(StreamError::DecodeFailed));

  // stream-end closes the stream after its frame; the id may begin again.
  InputStreams streams(true);
  REQUIRE(streams.accept(0, F("1 1 stream-begin|stream-end command-data eos x").view()));
  CHECK_FALSE(streams.state_of(1).has_value());
  REQUIRE(streams.accept(1, F("1 1 stream-begin stream-settings eos cbor:b'identity'").view()));
  CHECK(streams.state_of(1) == St::Configured);
}

// ---- frame reader ---------------------------------------------------------

TEST_CASE("frame reader: every cell of the transition table") {
  Bytes frame;
  const OwnedFrame f0 = F("1 1 stream-begin command-data eos abc");
  append_frame(frame, f0.header, f0.payload);
  REQUIRE(frame.size() == 11);

  SUBCASE("drained: feed -> reading; an empty feed stays drained; finish at a boundary is fine") {
    FrameReader r;
    CHECK(r.state() == ReaderState::Drained);
    CHECK(r.finish().has_value());
    r.feed({});
    CHECK(r.state() == ReaderState::Drained);
    auto none = r.next();
    REQUIRE(none);
    CHECK_FALSE(none->has_value());
    CHECK(r.state() == ReaderState::Drained);
    r.feed(frame);
    CHECK(r.state() == ReaderState::Reading);
  }
  SUBCASE("reading: frame stays reading, need-more -> drained; feed and finish are caller errors") {
    FrameReader r;
    r.feed(frame);
    CHECK_THROWS_AS(r.feed(frame), std::logic_error);
    auto early = r.finish();
    REQUIRE_FALSE(early);
    CHECK(early.error().name == reader_error_name(ReaderError::FramesLeftUnread));
    auto f = r.next();
    REQUIRE(f);
    REQUIRE(f->has_value());
    CHECK(r.state() == ReaderState::Reading);
    auto none = r.next();
    REQUIRE(none);
    CHECK_FALSE(none->has_value());
    CHECK(r.state() == ReaderState::Drained);
  }
  SUBCASE("drained with a cut frame: finish names body-ends-inside-frame") {
    FrameReader r;
    r.feed(ByteView(frame).first(5));
    auto none = r.next();
    REQUIRE(none);
    CHECK_FALSE(none->has_value());
    auto end = r.finish();
    REQUIRE_FALSE(end);
    CHECK(end.error().name == reader_error_name(ReaderError::BodyEndsInsideFrame));
    CHECK(end.error().message == "body ends inside frame 0 at body offset 0: 5 of 8 header bytes");
  }
  SUBCASE("reading: too large -> failed, which keeps its error and ignores input") {
    FrameReader r(2);
    r.feed(frame);
    auto bad = r.next();
    REQUIRE_FALSE(bad);
    CHECK(bad.error().name == reader_error_name(ReaderError::FrameTooLarge));
    CHECK(r.state() == ReaderState::Failed);
    r.feed(frame);  // ignored, no throw
    CHECK(r.state() == ReaderState::Failed);
    auto again = r.next();
    REQUIRE_FALSE(again);
    CHECK(again.error().message == bad.error().message);
    auto end = r.finish();
    REQUIRE_FALSE(end);
    CHECK(end.error().name == reader_error_name(ReaderError::FrameTooLarge));
  }
}

// ---- client reactor -------------------------------------------------------

namespace {

using RS = RequestState;

// A client reactor with request 1 in state s; returns whether a server frame
// (and so stream 2) has been seen.
bool client_setup(ClientReactor& c, RequestState s) {
  Bytes out;
  switch (s) {
    case RS::SendingData:
      REQUIRE(c.begin_command("x", json::object(), out));
      return false;
    case RS::AwaitingStatus:
      REQUIRE(c.call_command("x", json::object(), out));
      return false;
    case RS::Values:
    case RS::Error: {
      REQUIRE(c.call_command("x", json::object(), out));
      const std::string status = s == RS::Values ? "b'ok'" : "b'error', b'error': {b'message': []}";
      auto events = c.on_frame(F("1 2 stream-begin command-response continuation cbor:{b'status': " + status + "}").view());
      REQUIRE(events.size() == (s == RS::Values ? 0u : 1u));
      return true;
    }
  }
  return false;
}

}  // namespace

TEST_CASE("client reactor: every cell of the request transition table") {
  using E = RequestEvent;
  using X = ClientReactorError;
  struct Want {
    std::optional<RequestState> next;  // nullopt with no error: done (request removed)
    X error = X::None;
  };
  const Want done{std::nullopt};
  const Want no_data{std::nullopt, X::DataNotExpected};
  const std::map<std::pair<RequestState, RequestEvent>, Want> table = {
      {{RS::SendingData, E::SendData}, {RS::SendingData}},
      {{RS::SendingData, E::EndData}, {RS::AwaitingStatus}},
      {{RS::SendingData, E::Response}, {std::nullopt, X::ResponseBeforeDataEnd}},
      {{RS::SendingData, E::ErrorResponse}, done},
      {{RS::AwaitingStatus, E::SendData}, no_data},
      {{RS::AwaitingStatus, E::EndData}, no_data},
      {{RS::AwaitingStatus, E::Response}, {RS::AwaitingStatus}},
      {{RS::AwaitingStatus, E::StatusOk}, {RS::Values}},
      {{RS::AwaitingStatus, E::StatusError}, {RS::Error}},
      {{RS::AwaitingStatus, E::ResponseEos}, {std::nullopt, X::ResponseWithoutStatus}},
      {{RS::AwaitingStatus, E::ErrorResponse}, done},
      {{RS::Values, E::SendData}, no_data},
      {{RS::Values, E::EndData}, no_data},
      {{RS::Values, E::Response}, {RS::Values}},
      {{RS::Values, E::ResponseEos}, done},
      {{RS::Values, E::ErrorResponse}, done},
      {{RS::Error, E::SendData}, no_data},
      {{RS::Error, E::EndData}, no_data},
      {{RS::Error, E::Response}, {RS::Error}},
      {{RS::Error, E::ResponseEos}, done},
      {{RS::Error, E::ErrorResponse}, done},
  };
  for (const auto& [key, want] : table) {
    const auto state = key.first;
    const auto event = key.second;
    CAPTURE(request_state_name(state));
    CAPTURE(request_event_name(event));
    ClientReactor c;
    const bool open = client_setup(c, state);
    REQUIRE(c.request_state(1) == state);
    Bytes out;
    std::optional<Error> api_error;
    std::vector<ClientEvent> events;
    auto frame = [&](const std::string& line) { events = c.on_frame(F(with_begin(line, open)).view()); };
    switch (event) {
      case E::SendData:
        if (auto r = c.send_data(1, as_bytes("ab"), out); !r) api_error = r.error();
        break;
      case E::EndData:
        if (auto r = c.end_data(1, as_bytes("ab"), out); !r) api_error = r.error();
        break;
      case E::Response: frame("1 2 {sf} command-response continuation "); break;
      case E::StatusOk: frame("1 2 {sf} command-response continuation cbor:{b'status': b'ok'}"); break;
      case E::StatusError: frame("1 2 {sf} command-response continuation cbor:{b'status': b'error'}"); break;
      case E::ResponseEos: frame("1 2 {sf} command-response eos "); break;
      case E::ErrorResponse:
        frame("1 2 {sf} error-response 0 cbor:{b'type': b'server', b'message': [{b'msg': b'x'}]}");
        break;
    }
    if (want.error == X::DataNotExpected) {
      REQUIRE(api_error.has_value());
      CHECK(api_error->name == client_error_name(want.error));
      CHECK(out.empty());
      CHECK(c.request_state(1) == state);  // the request is untouched
      CHECK_FALSE(c.errored());
    } else if (want.error != X::None) {
      REQUIRE(events.size() == 1);
      REQUIRE(std::holds_alternative<ProtocolError>(events[0]));
      CHECK(std::get<ProtocolError>(events[0]).name == client_error_name(want.error));
      CHECK(c.state() == ClientState::Errored);
    } else {
      CHECK_FALSE(api_error.has_value());
      CHECK(c.request_state(1) == want.next);
      CHECK(c.state() == ClientState::Open);
      for (const auto& e : events) CHECK_FALSE(std::holds_alternative<ProtocolError>(e));
      if (event == E::ResponseEos && state == RS::Values) {
        REQUIRE(events.size() == 1);
        CHECK(std::holds_alternative<ResponseEnd>(events[0]));
      }
      if (event == E::ResponseEos && state == RS::Error) CHECK(events.empty());
    }
  }
}

TEST_CASE("client reactor: connection states and the named errors of response frames") {
  ClientReactor fresh;
  CHECK(fresh.state() == ClientState::Initial);
  Bytes sent;
  REQUIRE(fresh.call_command("x", json::object(), sent));
  CHECK(fresh.state() == ClientState::Open);

  auto error_of = [](const std::vector<std::string>& lines) -> std::string_view {
    ClientReactor c;
    Bytes out;
    REQUIRE(c.call_command("x", json::object(), out));
    for (std::size_t i = 0; i < lines.size(); ++i) {
      for (auto& e : c.on_frame(F(lines[i]).view())) {
        if (auto* p = std::get_if<ProtocolError>(&e)) {
          CHECK(i + 1 == lines.size());
          CHECK(c.errored());
          // Errored: every later frame fails with already-errored.
          auto later = c.on_frame(F("1 2 0 command-response eos ").view());
          REQUIRE(later.size() == 1);
          CHECK(std::get<ProtocolError>(later[0]).name == client_error_name(ClientReactorError::AlreadyErrored));
          return p->name;
        }
      }
    }
    auto end = c.on_input_end();
    REQUIRE(end.has_value());
    return end->name;
  };
  using X = ClientReactorError;
  auto name = [](X e) { return client_error_name(e); };
  CHECK(error_of({"3 2 stream-begin command-response eos "}) == name(X::NoPendingResponse));
  CHECK(error_of({"1 2 stream-begin command-response continuation|eos "}) == name(X::ResponseFlags));
  CHECK(error_of({"1 2 stream-begin command-response eos \\xff"}) == name(X::ResponseInvalid));
  CHECK(error_of({"1 2 stream-begin command-response eos cbor:{b'status': b'maybe'}"}) == name(X::BadStatus));
  CHECK(error_of({"1 2 stream-begin command-response eos \\xa1FstatusBok\\x82"}) ==
        name(X::ResponseInsideValue));
  CHECK(error_of({"1 2 stream-begin error-response 0 cbor:{b'type': b'server'}"}) == name(X::ErrorResponseInvalid));
  CHECK(error_of({"1 2 stream-begin text-output 0 "}) == name(X::SideChannelInvalid));
  CHECK(error_of({"1 2 stream-begin command-response continuation cbor:{b'status': b'ok'}"}) ==
        name(X::InputEndInResponse));
  CHECK(error_of({"1 2 stream-begin command-request new "}) == header_error_name(HeaderError::WrongSender));
  CHECK(error_of({"1 1 stream-begin command-response eos "}) == stream_error_name(StreamError::WrongParity));
}
