#include "client/cli.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "client/arg_spec.hpp"
#include "client/clone.hpp"
#include "client/pull.hpp"
#include "client/files.hpp"
#include "client/frames_tool.hpp"
#include "client/json_value.hpp"
#include "client/redirect.hpp"
#include "client/time_breakdown.hpp"
#include "client/session.hpp"
#include "client/transport.hpp"
#include "client/url.hpp"
#include "store/transaction.hpp"

namespace hgrpc::client {
namespace {

using framing::Bytes;
using framing::ByteView;

struct GlobalOptions {
  std::string token_file;
  bool quiet = false;
  std::string bytes_style = "tagged";
  int timeout = 300;
  std::string upload_encoding;  // empty: requests go unencoded
  bool no_redirects = false;    // do not offer the server's redirect targets
  std::uint64_t max_redirect_bytes = kDefaultMaxRedirectBytes;
};

struct CallOptions {
  std::string url;
  std::string command;
  std::vector<std::string> args;
  std::string args_json;
  std::string data_file;
  std::vector<std::string> data_items;
  std::string encoding;
  std::string output;
};

struct PatchOptions {
  std::string url;
  std::string base;
  std::vector<std::string> inputs;
  std::string output = "-";
  std::string encoding;
};

constexpr const char* kArgHelp =
    "Command argument NAME[[]][:TYPE]=VALUE, repeatable. Types: bytes (default; the UTF-8 "
    "bytes of VALUE), str (text string), int, bool (true/false), b64 (bytes given in base64), "
    "json (input JSON, see --args-json). VALUE @PATH reads the value from a file (@- stdin, "
    "@@ a literal @). NAME[]=VALUE appends to a list. Examples: --arg a=@old.txt --arg "
    "size:int=12 --arg patches[]=@d1.bin";

constexpr const char* kEncodingHelp =
    "Only accept this response content encoding (default: offer zstd-8mb-frames, zstd-8mb, zlib, "
    "identity and let the server choose; zstd-8mb-frames lets hgrpcd send stored revlog chunks as "
    "they are: less server CPU, more bytes than zstd-8mb)";

// Exit-code-carrying failure of one subcommand.
int report(const ClientError& e) {
  std::fprintf(stderr, "hgrpc: %s\n", e.message.c_str());
  return exit_code(e.kind);
}

BytesStyle style_of(const GlobalOptions& g) {
  return g.bytes_style == "text" ? BytesStyle::Text : BytesStyle::Tagged;
}

ClientResult<std::string> read_token(const GlobalOptions& g) {
  std::string token;
  if (!g.token_file.empty()) {
    auto raw = read_file(g.token_file);
    if (!raw) return client_fail(ErrorKind::Usage, "--token-file: " + raw.error().message);
    token.assign(raw->begin(), raw->end());
  } else if (const char* env = std::getenv("HGRPC_TOKEN")) {
    token = env;
  }
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.find_first_of("\r\n") != std::string::npos) {
    return client_fail(ErrorKind::Usage, "the token must be one line");
  }
  return token;
}

ClientResult<HttpTransport> open_transport(const GlobalOptions& g, const std::string& url) {
  auto parsed = parse_url(url);
  if (!parsed) return hgrpc::unexpected<ClientError>(parsed.error());
  auto token = read_token(g);
  if (!token) return hgrpc::unexpected<ClientError>(token.error());
  TransportOptions options;
  options.token = *token;
  options.read_timeout = std::chrono::seconds(g.timeout);
  options.write_timeout = std::chrono::seconds(g.timeout);
  return HttpTransport(std::move(*parsed), std::move(options));
}

SessionOptions session_options(const GlobalOptions& g, const std::string& encoding) {
  SessionOptions s;
  s.max_redirect_bytes = g.max_redirect_bytes;
  if (!encoding.empty()) s.accept_encodings = {*framing::encoding_from_name(encoding)};
  if (!g.upload_encoding.empty()) s.upload_encoding = *framing::encoding_from_name(g.upload_encoding);
  return s;
}

void print_line(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

// Runs one call and returns its outcome (command errors included).
ClientResult<Outcome> run_one(const GlobalOptions& g, HttpTransport& transport, Call call,
                              const std::string& encoding) {
  std::optional<Outcome> result;
  ProgressLine progress(ProgressOptions{progress_wanted(g.quiet)});
  std::vector<Call> calls;
  calls.push_back(std::move(call));
  auto ran = run_calls(transport, calls, session_options(g, encoding),
                       [&](std::size_t, Outcome&& o) { result = std::move(o); }, &progress);
  progress.finish();
  if (!ran) return hgrpc::unexpected<ClientError>(ran.error());
  return std::move(*result);
}

// Command errors -> exit 1; error-response frames: command -> 1, else 3.
int report_outcome_error(const std::string& command, const Outcome& o) {
  if (o.kind == Outcome::Kind::CommandError) {
    return report({ErrorKind::Command, command + ": " + o.message});
  }
  ErrorKind kind = o.error_type == "command" ? ErrorKind::Command : ErrorKind::Protocol;
  return report({kind, command + ": " + o.error_type + " error: " + o.message});
}

int cmd_capabilities(const GlobalOptions& g, const std::string& url) {
  auto transport = open_transport(g, url);
  if (!transport) return report(transport.error());
  if (!transport->url().direct_api) {
    auto map = transport->handshake();
    if (!map) return report(map.error());
    auto apis = map->find("apis");
    if (apis == map->end() || !apis->is_object() || !apis->contains(std::string(kApiName))) {
      return report({ErrorKind::Protocol, "server does not offer the " + std::string(kApiName) + " API"});
    }
    print_line(render_json((*apis)[std::string(kApiName)], style_of(g)));
    return kExitOk;
  }
  auto outcome = run_one(g, *transport, Call{"capabilities", json::object(), std::nullopt}, "");
  if (!outcome) return report(outcome.error());
  if (outcome->kind != Outcome::Kind::Ok) return report_outcome_error("capabilities", *outcome);
  for (const auto& v : outcome->values) print_line(render_json(v, style_of(g)));
  return kExitOk;
}

int cmd_call(const GlobalOptions& g, const CallOptions& c) {
  Call call{c.command, json::object(), std::nullopt};
  if (!c.args_json.empty()) {
    json parsed = json::parse(c.args_json, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
      return report({ErrorKind::Usage, "--args-json: expected a JSON object"});
    }
    auto args = from_input_json(parsed, "--args-json");
    if (!args) return report({ErrorKind::Usage, args.error().message});
    call.args = std::move(*args);
  }
  for (const auto& spec : c.args) {
    if (auto ok = apply_arg(spec, call.args); !ok) return report({ErrorKind::Usage, ok.error().message});
  }
  if (!c.data_file.empty() || !c.data_items.empty()) {
    CommandData data;
    if (!c.data_file.empty()) data.add_file(c.data_file);
    for (const auto& item : c.data_items) data.add_bytes_item_file(item);
    if (auto size = data.size(); !size) return report(size.error());
    call.data = std::move(data);
  }
  auto transport = open_transport(g, c.url);
  if (!transport) return report(transport.error());
  auto outcome = run_one(g, *transport, std::move(call), c.encoding);
  if (!outcome) return report(outcome.error());
  if (outcome->kind != Outcome::Kind::Ok) return report_outcome_error(c.command, *outcome);
  if (!c.output.empty()) {
    Bytes out;
    for (const auto& v : outcome->values) {
      if (v.is_binary()) {
        framing::append(out, v.get_binary());
      } else {
        auto text = render_json(v, style_of(g)) + "\n";
        framing::append(out, framing::as_bytes(text));
      }
    }
    if (auto ok = write_file(c.output, out); !ok) return report({ErrorKind::Usage, ok.error().message});
    return kExitOk;
  }
  for (const auto& v : outcome->values) print_line(render_json(v, style_of(g)));
  return kExitOk;
}

// One batch input line -> a call.
ClientResult<Call> parse_batch_line(const std::string& line, std::size_t line_number) {
  auto where = "line " + std::to_string(line_number);
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return client_fail(ErrorKind::Usage, where + ": not a JSON object");
  Call call;
  for (const auto& [key, value] : j.items()) {
    if (key == "command") {
      if (!value.is_string()) return client_fail(ErrorKind::Usage, where + ": \"command\" must be a string");
      call.command = value.get<std::string>();
    } else if (key == "args") {
      if (!value.is_object()) return client_fail(ErrorKind::Usage, where + ": \"args\" must be an object");
      auto args = from_input_json(value, where + ": args");
      if (!args) return client_fail(ErrorKind::Usage, args.error().message);
      call.args = std::move(*args);
    } else if (key == "data_file" || key == "data_items") {
      if (!call.data) call.data = CommandData{};
      if (key == "data_file") {
        if (!value.is_string()) return client_fail(ErrorKind::Usage, where + ": \"data_file\" must be a path");
        call.data->add_file(value.get<std::string>());
      } else {
        if (!value.is_array()) return client_fail(ErrorKind::Usage, where + ": \"data_items\" must be a list of paths");
        for (const auto& p : value) {
          if (!p.is_string()) return client_fail(ErrorKind::Usage, where + ": \"data_items\" must be a list of paths");
          call.data->add_bytes_item_file(p.get<std::string>());
        }
      }
    } else {
      return client_fail(ErrorKind::Usage, where + ": unknown key \"" + key +
                                               "\" (expected command, args, data_file, data_items)");
    }
  }
  if (call.command.empty()) return client_fail(ErrorKind::Usage, where + ": \"command\" is missing");
  if (call.data) {
    if (auto size = call.data->size(); !size) {
      return client_fail(ErrorKind::Usage, where + ": " + size.error().message);
    }
  }
  return call;
}

int cmd_batch(const GlobalOptions& g, const std::string& url, const std::string& file,
              const std::string& encoding) {
  auto text = read_file(file);
  if (!text) return report({ErrorKind::Usage, text.error().message});
  std::vector<Call> calls;
  std::istringstream in(std::string(framing::as_chars(*text)));
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto call = parse_batch_line(line, n);
    if (!call) return report(call.error());
    calls.push_back(std::move(*call));
  }
  if (calls.empty()) return report({ErrorKind::Usage, file + ": no commands"});
  auto transport = open_transport(g, url);
  if (!transport) return report(transport.error());

  int status = kExitOk;
  InOrderRelease printer([&](std::size_t index, Outcome&& o) {
    json out = json::object();
    out["command"] = calls[index].command;
    if (o.kind == Outcome::Kind::Ok) {
      json values = json::array();
      for (const auto& v : o.values) values.push_back(to_output_json(v, style_of(g)));
      out["values"] = std::move(values);
    } else {
      out["error"] = o.message;
      out["error_type"] = o.kind == Outcome::Kind::CommandError ? "command" : o.error_type;
      bool command_class = o.kind == Outcome::Kind::CommandError || o.error_type == "command";
      status = std::max(status, command_class ? kExitCommand : kExitProtocol);
    }
    print_line(out.dump());
  });
  SessionOptions options = session_options(g, encoding);
  options.force_multirequest = true;
  ProgressLine progress(ProgressOptions{progress_wanted(g.quiet)});
  auto ran = run_calls(*transport, calls, options,
                       [&](std::size_t index, Outcome&& o) { printer.put(index, std::move(o)); }, &progress);
  progress.finish();
  if (!ran) return report(ran.error());
  return status;
}

// applypatches / foldpatches / diff with their inputs as command data.
int cmd_patch(const GlobalOptions& g, const std::string& command, const PatchOptions& p) {
  CommandData data;
  if (!p.base.empty()) data.add_bytes_item_file(p.base);
  for (const auto& f : p.inputs) data.add_bytes_item_file(f);
  if (auto size = data.size(); !size) return report(size.error());
  auto transport = open_transport(g, p.url);
  if (!transport) return report(transport.error());
  auto outcome = run_one(g, *transport, Call{command, json::object(), std::move(data)}, p.encoding);
  if (!outcome) return report(outcome.error());
  if (outcome->kind != Outcome::Kind::Ok) return report_outcome_error(command, *outcome);
  if (outcome->values.size() != 1 || !outcome->values[0].is_binary()) {
    return report({ErrorKind::Protocol, command + ": expected one byte string in the response, got " +
                                            std::to_string(outcome->values.size()) + " value(s)"});
  }
  if (auto ok = write_file(p.output, outcome->values[0].get_binary()); !ok) {
    return report({ErrorKind::Usage, ok.error().message});
  }
  return kExitOk;
}

int cmd_frames_decode(const GlobalOptions& g, const std::string& file, bool values) {
  auto body = read_file(file);
  if (!body) return report({ErrorKind::Usage, body.error().message});
  FramesDecodeOptions options;
  options.values = values;
  options.bytes_style = style_of(g);
  auto text = decode_frames(*body, options);
  if (!text) {
    std::fwrite(text.error().partial.data(), 1, text.error().partial.size(), stdout);
    std::fflush(stdout);
    return report(text.error().error);
  }
  std::fwrite(text->data(), 1, text->size(), stdout);
  std::fflush(stdout);
  return kExitOk;
}

int cmd_frames_encode(const std::string& file, const std::string& output) {
  auto text = read_file(file);
  if (!text) return report({ErrorKind::Usage, text.error().message});
  auto body = encode_frames(framing::as_chars(*text));
  if (!body) return report(body.error());
  if (auto ok = write_file(output, *body); !ok) return report({ErrorKind::Usage, ok.error().message});
  return kExitOk;
}

// The API descriptor: from the handshake, or the capabilities command for a direct API URL.
ClientResult<json> api_descriptor(const GlobalOptions& g, HttpTransport& transport) {
  if (!transport.url().direct_api) {
    auto map = transport.handshake();
    if (!map) return hgrpc::unexpected<ClientError>(map.error());
    auto apis = map->find("apis");
    if (apis == map->end() || !apis->is_object() || !apis->contains(std::string(kApiName))) {
      return client_fail(ErrorKind::Protocol, "server does not offer the " + std::string(kApiName) + " API");
    }
    return (*apis)[std::string(kApiName)];
  }
  auto outcome = run_one(g, transport, Call{"capabilities", json::object(), std::nullopt}, "");
  if (!outcome) return hgrpc::unexpected<ClientError>(outcome.error());
  if (outcome->kind != Outcome::Kind::Ok || outcome->values.size() != 1) {
    return client_fail(ErrorKind::Protocol, "capabilities: " + outcome->message);
  }
  return outcome->values[0];
}

// A fetch's counts and share done, drawn on the progress line.
FetchProgress draw_on(ProgressLine& progress) {
  return [&progress](const FetchSummary& counts, double fraction) {
    progress.set_work(progress_counts(counts), fraction);
  };
}

// --revlog-cache-bytes, --max-open-filelogs, the writer threads and the zstd level of clone and pull.
void add_writer_options(CLI::App* sub, WriterLimits& limits) {
  sub->add_option("--revlog-cache-bytes", limits.revlog_cache_bytes,
                  "Recent full texts (delta bases) kept per revlog written, in bytes")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 40))
      ->capture_default_str();
  sub->add_option("--max-open-filelogs", limits.max_open_filelogs, "Filelogs kept open at once while writing")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100000}))
      ->capture_default_str();
  sub->add_option("--write-threads", limits.write_threads,
                  "Threads writing filelogs while the responses are read, plus one for the manifest log (0: the "
                  "reader writes everything; at most --max-open-filelogs are used)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{64}))
      ->capture_default_str();
  sub->add_option("--write-queue-bytes", limits.write_queue_bytes,
                  "Received revisions queued for the writer threads, in bytes per thread (they share one "
                  "budget of (--write-threads + 1) x this)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40))
      ->capture_default_str();
  sub->add_option("--zstd-level", limits.zstd_level,
                  "zstd level of the revlog chunks written (Mercurial writes 3: higher is smaller and slower; "
                  "zlib repositories ignore it)")
      ->check(CLI::Range(1, 22))
      ->capture_default_str();
}

struct CloneCliOptions {
  std::string url;
  std::string dest;
  std::vector<std::string> revs;
  bool noupdate = false;
  bool json_summary = false;
  std::string encoding;  // empty: offer every profile
  WriterLimits writer;
};

int cmd_clone(const GlobalOptions& g, const CloneCliOptions& c) {
  const TimeBreakdown clock;  // from the start: the handshake counts too
  std::string dest = c.dest;
  if (dest.empty()) {  // as hg: the last component of the source's path
    auto parsed = parse_url(c.url);
    if (!parsed) return report(parsed.error());
    std::string path = parsed->path;
    while (!path.empty() && path.back() == '/') path.pop_back();
    dest = path.substr(path.find_last_of('/') + 1);
    if (dest.empty() || dest == "." || dest == "..") return report({ErrorKind::Usage, "clone: give DEST (the URL has no path to name it after)"});
  }
  auto transport = open_transport(g, c.url);
  if (!transport) return report(transport.error());
  auto descriptor = api_descriptor(g, *transport);
  if (!descriptor) return report(descriptor.error());
  CloneOptions options;
  options.source_url = c.url;
  options.checkout = !c.noupdate;
  options.revs = c.revs;
  options.writer = c.writer;
  ProgressLine progress(ProgressOptions{progress_wanted(g.quiet)});
  options.on_progress = draw_on(progress);
  auto session = session_options(g, c.encoding);
  if (!g.no_redirects) session.redirect = supported_redirects(*descriptor);
  auto summary = clone_repository(http_exchange(*transport, session, &progress), *descriptor, dest, options);
  progress.finish();
  if (!summary) return report({summary.error().kind, "clone: " + summary.error().message});
  if (c.json_summary) {
    json out{{"destination", dest},
             {"changesets", summary->changesets},
             {"manifests", summary->manifests},
             {"file_revisions", summary->file_revisions},
             {"revision_bytes", summary->revision_bytes},
             {"requests", summary->requests + (transport->url().direct_api ? 1 : 0)},
             {"bytes_from_server", transport->bytes_from_server()},
             {"bytes_from_redirects", transport->bytes_from_redirects()},
             {"checked_out_files", summary->checked_out_files},
             {"checked_out", summary->checked_out_node.empty() ? json(nullptr) : json(summary->checked_out_node)},
             {"write_threads", c.writer.threads()}};
    clock.add_to(out, *transport);
    print_line(out.dump());
  } else if (!g.quiet) {
    print_line(fmt::format("added {} changesets with {} manifests and {} file revisions", summary->changesets,
                           summary->manifests, summary->file_revisions));
    if (!summary->checked_out_node.empty()) {
      print_line(fmt::format("{} files checked out at {}", summary->checked_out_files, summary->checked_out_node));
    }
  }
  return kExitOk;
}

struct PullCliOptions {
  std::vector<std::string> positional;  // [DEST] [URL]
  std::vector<std::string> revs;
  bool json_summary = false;
  int lock_timeout = 600;
  std::size_t discovery_sample = 200;
  std::string encoding;  // empty: offer every profile
  WriterLimits writer;
};

int cmd_pull(const GlobalOptions& g, const PullCliOptions& c) {
  const TimeBreakdown clock;
  // One argument is the URL if it has a scheme, else DEST.
  std::string dest_arg, url;
  if (c.positional.size() == 2) {
    dest_arg = c.positional[0];
    url = c.positional[1];
  } else if (c.positional.size() == 1) {
    (c.positional[0].find("://") != std::string::npos ? url : dest_arg) = c.positional[0];
  }
  std::filesystem::path dest;
  if (dest_arg.empty()) {
    std::error_code ec;
    auto found = find_repository(std::filesystem::current_path(ec));
    if (!found) return report({ErrorKind::Usage, "pull: no repository found in the current directory or above (give DEST)"});
    dest = *found;
  } else {
    dest = dest_arg;
    if (!std::filesystem::is_directory(dest / ".hg")) {
      return report({ErrorKind::Usage, "pull: '" + dest.string() + "' is not a repository (no .hg)"});
    }
  }
  if (url.empty()) {
    auto path = default_path(dest);
    if (!path) return report({ErrorKind::Usage, "pull: give URL (" + (dest / ".hg/hgrc").string() + " has no [paths] default)"});
    url = *path;
  }
  auto transport = open_transport(g, url);
  if (!transport) return report({transport.error().kind, "pull: " + transport.error().message});
  auto descriptor = api_descriptor(g, *transport);
  if (!descriptor) return report({descriptor.error().kind, "pull: " + descriptor.error().message});
  PullOptions options;
  options.source_url = url;
  options.revs = c.revs;
  options.lock_timeout = std::chrono::seconds(c.lock_timeout);
  options.discovery_sample = c.discovery_sample;
  options.writer = c.writer;
  options.on_wait = [&](const std::string& message) {
    if (!g.quiet) std::fprintf(stderr, "%s\n", message.c_str());
  };
  ProgressLine progress(ProgressOptions{progress_wanted(g.quiet)});
  options.on_progress = draw_on(progress);
  auto session = session_options(g, c.encoding);
  if (!g.no_redirects) session.redirect = supported_redirects(*descriptor);
  auto summary = pull_repository(http_exchange(*transport, session, &progress), *descriptor, dest, options);
  progress.finish();
  if (!summary) return report({summary.error().kind, "pull: " + summary.error().message});
  if (summary->recovered && !g.quiet) {
    std::fprintf(stderr, "rolled back an interrupted transaction (store/%s)\n", store::kJournalName);
  }
  const auto& f = summary->fetch;
  if (c.json_summary) {
    json out{{"destination", dest.string()},
             {"source", url},
             {"changesets", f.changesets},
             {"manifests", f.manifests},
             {"file_revisions", f.file_revisions},
             {"files", f.files},
             {"revision_bytes", f.revision_bytes},
             {"requests", f.requests + (transport->url().direct_api ? 1 : 0)},
             {"bytes_from_server", transport->bytes_from_server()},
             {"bytes_from_redirects", transport->bytes_from_redirects()},
             {"discovery_rounds", summary->discovery_rounds},
             {"common_heads", summary->common_heads},
             {"phase_changes", summary->phase_changes},
             {"bookmarks", summary->bookmark_messages},
             {"recovered", summary->recovered},
             {"write_threads", c.writer.threads()}};
    clock.add_to(out, *transport);
    print_line(out.dump());
  } else if (!g.quiet) {
    for (const auto& m : summary->bookmark_messages) print_line(m);
    if (f.changesets == 0) {
      print_line("no changes found");
    } else {
      print_line(fmt::format("added {} changesets with {} changes to {} files", f.changesets, f.file_revisions, f.files));
    }
  }
  return kExitOk;
}

void add_encoding_option(CLI::App* sub, std::string& target) {
  sub->add_option("--encoding", target, kEncodingHelp)
      ->check(CLI::IsMember({"zstd-8mb-frames", "zstd-8mb", "zlib", "identity"}));
}

}  // namespace

int run_cli(int argc, char** argv) {
  // A server may close while we still send (e.g. after answering 404): that
  // must be an error value from send(), not a silent death by SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{
      "hgrpc: client of hgrpcd, the server of Mercurial's frame-based HTTP v2 protocol\n"
      "(application/mercurial-exp-framing-0006).\n\n"
      "URL is a repository URL (http://HOST:PORT/, handshake first) or a direct API URL\n"
      "(http://HOST:PORT/api/exp-http-v2-0003). Byte strings print as {\"$bytes\": \"<base64>\"}\n"
      "(or, with --bytes text, as plain strings when valid UTF-8).\n\n"
      "Exit codes: 0 success, 1 command error, 2 usage error, 3 protocol or transport error.",
      "hgrpc"};
  app.require_subcommand(1);
  app.fallthrough();
  GlobalOptions g;
  app.add_option("--token-file", g.token_file,
                 "File holding the bearer token (Authorization: Bearer); default: $HGRPC_TOKEN");
  app.add_flag("-q,--quiet", g.quiet, "No progress line on stderr");
  app.add_option("--bytes", g.bytes_style, "How byte strings print in JSON: tagged ({\"$bytes\": base64}) or text")
      ->check(CLI::IsMember({"tagged", "text"}))
      ->capture_default_str();
  app.add_option("--upload-encoding", g.upload_encoding,
                 "Encode requests and command data with this profile on client stream 3 (the server's "
                 "capabilities must list it under contentencodings; default: no encoding)")
      ->check(CLI::IsMember({"zstd-8mb-frames", "zstd-8mb", "zlib", "identity"}));
  app.add_flag("--no-redirects", g.no_redirects,
               "clone/pull: do not offer the server's content redirect targets (every answer then comes "
               "inline from the server)");
  app.add_option("--max-redirect-bytes", g.max_redirect_bytes,
                 "Largest content-redirect blob fetched; a larger advertised size is an error before any "
                 "request")
      ->transform(CLI::AsSizeValue(false))
      ->capture_default_str();
  app.add_option("--timeout", g.timeout, "Read/write timeout in seconds")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();

  std::string url;
  auto* caps = app.add_subcommand("capabilities", "Perform the handshake and print the server's capabilities as JSON");
  caps->add_option("URL", url, "Server URL")->required();

  CallOptions call;
  auto* call_cmd = app.add_subcommand(
      "call",
      "Run one command; print each result value as one JSON line (or write it with --output)");
  call_cmd->add_option("URL", call.url, "Server URL")->required();
  call_cmd->add_option("COMMAND", call.command, "Command name, e.g. diff")->required();
  call_cmd->add_option("--arg", call.args, kArgHelp)->allow_extra_args(false);
  call_cmd->add_option("--args-json", call.args_json,
                       "All arguments as a JSON object: strings are byte strings, {\"$bytes\": base64} "
                       "arbitrary bytes, {\"$text\": s} a text string; --arg adds to it");
  call_cmd->add_option("--data", call.data_file, "Send this file's bytes as the command data");
  call_cmd->add_option("--data-item", call.data_items,
                       "Append this file to the command data as one CBOR byte string (repeatable)")
      ->allow_extra_args(false);
  add_encoding_option(call_cmd, call.encoding);
  call_cmd->add_option("-o,--output", call.output,
                       "Write the result to FILE ('-' stdout): byte strings raw, other values as JSON lines");

  std::string batch_file, batch_encoding;
  auto* batch = app.add_subcommand(
      "batch",
      "Run many commands in one multirequest body. FILE.jsonl: one JSON object per line:\n"
      "  {\"command\": NAME, \"args\": {...}, \"data_file\": PATH, \"data_items\": [PATH...]}\n"
      "Prints one JSON line per command in input order: {\"command\", \"values\": [...]} or\n"
      "{\"command\", \"error\", \"error_type\"}. Exit 1 if any command failed.");
  batch->add_option("URL", url, "Server URL")->required();
  batch->add_option("FILE", batch_file, "JSON lines file ('-' stdin)")->required();
  add_encoding_option(batch, batch_encoding);

  PatchOptions apply_opts, fold_opts, diff_opts;
  auto* apply = app.add_subcommand("apply", "applypatches: apply DELTAs in order to --base; write the text");
  apply->add_option("URL", apply_opts.url, "Server URL")->required();
  apply->add_option("--base", apply_opts.base, "Base text file")->required();
  apply->add_option("DELTA", apply_opts.inputs, "Delta files, applied in order");
  apply->add_option("-o,--output", apply_opts.output, "Output file ('-' stdout)")->capture_default_str();
  add_encoding_option(apply, apply_opts.encoding);

  auto* fold = app.add_subcommand("fold", "foldpatches: fold DELTAs into one delta");
  fold->add_option("URL", fold_opts.url, "Server URL")->required();
  fold->add_option("DELTA", fold_opts.inputs, "Delta files, in order")->required();
  fold->add_option("-o,--output", fold_opts.output, "Output file ('-' stdout)")->capture_default_str();
  add_encoding_option(fold, fold_opts.encoding);

  auto* diff = app.add_subcommand("diff", "diff: the delta turning file A into file B");
  diff->add_option("URL", diff_opts.url, "Server URL")->required();
  std::string a, b;
  diff->add_option("A", a, "Old file")->required();
  diff->add_option("B", b, "New file")->required();
  diff->add_option("-o,--output", diff_opts.output, "Output file ('-' stdout)")->capture_default_str();
  add_encoding_option(diff, diff_opts.encoding);

  CloneCliOptions clone_opts;
  auto* clone_cmd = app.add_subcommand(
      "clone",
      "Clone the repository at URL into DEST (default: the last component of URL's path): every\n"
      "changeset, manifest and file revision, bookmarks and phases, hash-checked, written as\n"
      "Debian's Mercurial 6.3.2 writes repositories; then check out the default branch's tip.\n"
      "DEST is built beside as DEST.hgrpc-tmp-XXXXXX and appears only when complete.");
  clone_cmd->add_option("URL", clone_opts.url, "Server URL")->required();
  clone_cmd->add_option("DEST", clone_opts.dest, "Destination directory (must not exist)");
  clone_cmd->add_flag("-U,--noupdate", clone_opts.noupdate, "Do not check out a working copy");
  clone_cmd->add_option("-r,--rev", clone_opts.revs,
                        "Clone only this revision (as the server's lookup resolves it) and its ancestors; repeatable")
      ->allow_extra_args(false);
  clone_cmd->add_flag("--json", clone_opts.json_summary, "Print a JSON summary line");
  add_encoding_option(clone_cmd, clone_opts.encoding);
  add_writer_options(clone_cmd, clone_opts.writer);

  PullCliOptions pull_opts;
  auto* pull_cmd = app.add_subcommand(
      "pull",
      "Pull into DEST (default: the repository containing the current directory) what the server\n"
      "at URL (default: DEST's [paths] default) has and DEST lacks: changesets, manifests and file\n"
      "revisions, hash-checked, then phase moves and bookmarks as hg pull applies them. One\n"
      "argument is the URL if it has a scheme (http://), else DEST. Takes DEST's wlock and store\n"
      "lock; an interrupted pull leaves DEST as it was, and the next one rolls its journal back.");
  pull_cmd->add_option("DEST_URL", pull_opts.positional, "[DEST] [URL]")->expected(0, 2);
  pull_cmd->add_option("-r,--rev", pull_opts.revs,
                       "Pull only this revision (as the server's lookup resolves it) and its ancestors; repeatable")
      ->allow_extra_args(false);
  pull_cmd->add_flag("--json", pull_opts.json_summary, "Print a JSON summary line");
  add_encoding_option(pull_cmd, pull_opts.encoding);
  add_writer_options(pull_cmd, pull_opts.writer);
  pull_cmd->add_option("--lock-timeout", pull_opts.lock_timeout,
                       "Seconds to wait for a lock another process holds (Mercurial's ui.timeout)")
      ->check(CLI::Range(0, 86400))
      ->capture_default_str();
  pull_cmd->add_option("--discovery-sample", pull_opts.discovery_sample,
                       "Nodes asked per known() round after the first, when local changesets are unknown to the server")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();

  auto* frames = app.add_subcommand("frames", "Framed bodies to human frame notation and back");
  frames->require_subcommand(1);
  std::string frames_file = "-", frames_output = "-";
  bool values = false;
  auto* decode = frames->add_subcommand(
      "decode",
      "Print a framed body (request or response) in human frame notation, one frame per line;\n"
      "'#' notes show stream settings, decompressed payloads and every reassembled CBOR value");
  decode->add_option("FILE", frames_file, "Body file ('-' stdin)")->capture_default_str();
  decode->add_flag("--values", values,
                   "Print one JSON line per request instead: {\"request_id\", \"values\"} or {\"request_id\", \"error\"}");
  auto* encode = frames->add_subcommand(
      "encode", "Turn human frame notation lines (as decode prints them; '#' lines ignored) into body bytes");
  encode->add_option("FILE", frames_file, "Notation file ('-' stdin)")->capture_default_str();
  encode->add_option("-o,--output", frames_output, "Output file ('-' stdout)")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }

  if (*caps) return cmd_capabilities(g, url);
  if (*clone_cmd) return cmd_clone(g, clone_opts);
  if (*pull_cmd) return cmd_pull(g, pull_opts);
  if (*call_cmd) return cmd_call(g, call);
  if (*batch) return cmd_batch(g, url, batch_file, batch_encoding);
  if (*apply) return cmd_patch(g, "applypatches", apply_opts);
  if (*fold) return cmd_patch(g, "foldpatches", fold_opts);
  if (*diff) {
    diff_opts.inputs = {a, b};
    return cmd_patch(g, "diff", diff_opts);
  }
  if (*decode) return cmd_frames_decode(g, frames_file, values);
  if (*encode) return cmd_frames_encode(frames_file, frames_output);
  return kExitUsage;
}

}  // namespace hgrpc::client
