#include "hcm_yaml.h"

namespace wslb::test {

std::string routeYaml(const std::string& prefix, const std::string& cluster) {
  return "              - match: {prefix: \"" + prefix + "\"}\n" +
         "                route: {cluster: " + cluster + ", timeout: 0s}\n";
}

std::string hcmFilterYaml(const std::string& stat_prefix, const std::string& routes) {
  return "      - name: envoy.filters.network.http_connection_manager\n"
         "        typed_config:\n"
         "          \"@type\": type.googleapis.com/"
         "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n"
         "          stat_prefix: " +
         stat_prefix +
         "\n"
         "          upgrade_configs: [{upgrade_type: websocket}]\n"
         "          route_config:\n"
         "            virtual_hosts:\n"
         "            - name: all\n"
         "              domains: [\"*\"]\n"
         "              routes:\n" +
         routes +
         "          http_filters:\n"
         "          - name: envoy.filters.http.router\n"
         "            typed_config: {\"@type\": "
         "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}\n";
}

}  // namespace wslb::test
