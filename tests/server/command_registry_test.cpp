// The registry: lookup, argument validation from the declared table, error
// formatting.
#include <doctest/doctest.h>

#include <stdexcept>

#include "tests/server/command_support.hpp"

using namespace hgrpc::server;
using namespace hgrpc::server::testing;
using hgrpc::framing::ByteView;

TEST_CASE("the standard registry serves the five commands, all with permission pull") {
  std::vector<std::string> names;
  for (const auto& [name, spec] : registry().commands()) {
    names.push_back(name);
    CHECK(spec.permission == "pull");
    CHECK(spec.name == name);
  }
  CHECK(names == std::vector<std::string>{"applypatches", "capabilities", "diff", "foldpatches", "patchedsize"});
  CHECK(registry().find("diff") != nullptr);
  CHECK(registry().find("heads") == nullptr);
}

TEST_CASE("adding a command twice is a programmer error") {
  CommandRegistry r;
  r.add(CommandSpec{.name = "x", .permission = "pull", .args = {}, .handler = {}});
  CHECK_THROWS_AS(r.add(CommandSpec{.name = "x", .permission = "pull", .args = {}, .handler = {}}),
                  std::logic_error);
}

TEST_CASE("a missing required argument is named") {
  check_error(run("applypatches", {{"patches", json::array()}}), "missing required argument: %s", {"base"});
  check_error(run("applypatches", json::object()), "missing required argument: %s", {"base"});
}

TEST_CASE("unknown arguments are all named, sorted") {
  check_error(run("applypatches", {{"base", bin("")}, {"patches", json::array()}, {"zzz", 1}, {"aaa", 2}}),
              "unknown argument: %s", {"aaa, zzz"});
  check_error(run("capabilities", {{"x", 1}}), "unknown argument: %s", {"x"});
}

TEST_CASE("unknown argument names are echoed shortened, at most eight of them") {
  json args = {{"base", bin("")}, {"patches", json::array()}};
  args[std::string(100, 'x')] = 1;
  for (char c = 'a'; c < 'a' + 9; ++c) args[std::string(1, c)] = 1;
  check_error(run("applypatches", args), "unknown argument: %s",
              {"a, b, c, d, e, f, g, h and 2 more"});
  json one = {{std::string(100, 'y'), 1}};
  check_error(run("capabilities", one), "unknown argument: %s", {std::string(64, 'y') + "..."});
}

TEST_CASE("a wrong argument type names expected and got") {
  check_error(run("applypatches", {{"base", 5}, {"patches", json::array()}}), "argument %s: expected %s, got %s",
              {"base", "bytes", "int"});
  check_error(run("applypatches", {{"base", bin("")}, {"patches", bin("")}}), "argument %s: expected %s, got %s",
              {"patches", "list", "bytes"});
  check_error(run("applypatches", {{"base", bin("")}, {"patches", json::object()}}),
              "argument %s: expected %s, got %s", {"patches", "list", "dict"});
  check_error(run("diff", {{"a", json::array()}, {"b", bin("")}}), "argument %s: expected %s, got %s",
              {"a", "bytes", "list"});
}

TEST_CASE("a list element of the wrong type names the argument and the index") {
  check_error(run("applypatches", {{"base", bin("")}, {"patches", json::array({bin(""), bin(""), 7})}}),
              "argument %s: element %s: expected %s, got %s", {"patches", "2", "bytes", "int"});
}

TEST_CASE("arguments must be a map, absent arguments count as an empty map") {
  check_error(run("capabilities", json::array()), "arguments must be a map, got %s", {"list"});
  CHECK(run("capabilities", json()).has_value());
}

TEST_CASE("command data for a command that takes none is an error") {
  Bytes data = data_of({bin("x")});
  check_error(run("capabilities", json::object(), ByteView(data)), "command %s takes no command data",
              {"capabilities"});
}

TEST_CASE("optional arguments get their declared defaults, the table is advertised") {
  CommandRegistry r;
  json seen;
  r.add(CommandSpec{.name = "echo",
                    .permission = "pull",
                    .args = {ArgSpec{.name = "n", .type = ArgType::Int, .required = false, .default_value = json(42)},
                             ArgSpec{.name = "flag", .type = ArgType::Bool, .required = false}},
                    .handler = [&seen](const CommandInput& in, ResponseSink&) -> CommandStatus {
                      seen = in.args;
                      return {};
                    }});
  const CommandSpec& spec = *r.find("echo");
  REQUIRE(r.run(spec, json::object(), std::nullopt, {}).has_value());
  CHECK(seen == json{{"n", 42}});
  REQUIRE(r.run(spec, {{"n", 1}, {"flag", true}}, std::nullopt, {}).has_value());
  CHECK(seen == json{{"n", 1}, {"flag", true}});
  check_error(r.run(spec, {{"flag", 1}}, std::nullopt, {}), "argument %s: expected %s, got %s",
              {"flag", "bool", "int"});

  json caps = r.commands_capability();
  CHECK(caps == json{{"echo",
                      {{"args",
                        {{"n", {{"type", bin("int")}, {"required", false}, {"default", 42}}},
                         {"flag", {{"type", bin("bool")}, {"required", false}}}}},
                       {"permissions", json::array({bin("pull")})}}}});
}

TEST_CASE("validate_args returns the arguments with defaults filled in") {
  CommandSpec spec{.name = "t",
                   .permission = "pull",
                   .args = {ArgSpec{.name = "d", .type = ArgType::Dict, .required = false,
                                    .default_value = json::object()}},
                   .handler = {}};
  auto v = validate_args(spec, json::object(), false);
  REQUIRE(v.has_value());
  CHECK(*v == json{{"d", json::object()}});
  auto bad = validate_args(spec, {{"d", json::array()}}, false);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().args == std::vector<std::string>{"d", "dict", "list"});
}

TEST_CASE("format_command_error substitutes the args in order") {
  CHECK(format_command_error({"argument %s: expected %s, got %s", {"base", "bytes", "int"}}) ==
        "argument base: expected bytes, got int");
  CHECK(format_command_error({"100%% of %s", {"x"}}) == "100% of x");
  CHECK(format_command_error({"%s and %s", {"only"}}) == "only and %s");
}

TEST_CASE("arg_type_name spells Mercurial's type names") {
  CHECK(arg_type_name(ArgType::Bytes) == "bytes");
  CHECK(arg_type_name(ArgType::Int) == "int");
  CHECK(arg_type_name(ArgType::List) == "list");
  CHECK(arg_type_name(ArgType::Dict) == "dict");
  CHECK(arg_type_name(ArgType::Bool) == "bool");
}
