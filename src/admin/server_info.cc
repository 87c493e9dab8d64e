// GET /server_info: Envoy's admin.v3.ServerInfo.

#include <boost/json/object.hpp>

#include "admin/json_util.h"
#include "wslb/admin/views.h"

namespace wslb::admin {

namespace json = boost::json;

namespace {

json::object commandLineJson(const CommandLineOptions& o) {
  return json::object{
      {"base_id", uint64Json(o.base_id)},
      {"concurrency", o.concurrency},
      {"config_path", o.config_path},
      {"config_yaml", o.config_yaml},
      {"admin_address_path", o.admin_address_path},
      {"local_address_ip_version", "v4"},
      {"log_level", o.log_level},
      {"component_log_level", o.component_log_level},
      {"log_format", o.log_format},
      {"log_path", o.log_path},
      {"service_cluster", o.service_cluster},
      {"service_node", o.service_node},
      {"drain_time", durationJson(o.drain_time)},
      {"drain_strategy", o.drain_strategy},
      {"parent_shutdown_time", durationJson(o.parent_shutdown_time)},
      {"mode", o.mode},
      {"disable_hot_restart", o.disable_hot_restart},
      {"restart_epoch", 0},
  };
}

}  // namespace

std::string renderServerInfo(const AdminContext& context) {
  const auto now = std::chrono::system_clock::now();
  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
      now > context.start_time ? now - context.start_time : std::chrono::seconds(0));
  json::object node;
  if (context.bootstrap != nullptr) {
    node["id"] = context.bootstrap->node.id;
    node["cluster"] = context.bootstrap->node.cluster;
  }
  node["user_agent_name"] = "wslb";
  node["user_agent_version"] = WSLB_VERSION;
  // No hot restart: one epoch, so both uptimes are the same.
  return prettyJson(json::object{
      {"version", WSLB_VERSION "/RELEASE"},
      {"state", context.state ? context.state() : std::string("LIVE")},
      {"uptime_current_epoch", durationJson(uptime)},
      {"uptime_all_epochs", durationJson(uptime)},
      {"hot_restart_version", "disabled"},
      {"command_line_options", commandLineJson(context.command_line)},
      {"node", std::move(node)},
  });
}

}  // namespace wslb::admin
