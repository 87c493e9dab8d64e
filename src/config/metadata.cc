#include "config/metadata.h"

namespace wslb::config {

void readMetadata(Context& ctx, const Field& field,
                  const std::function<void(MapReader& wslb)>& read_wslb) {
  MapReader metadata(ctx, field);
  if (std::optional<Field> filter_metadata = metadata.take("filter_metadata")) {
    MapReader namespaces(ctx, *filter_metadata);
    if (std::optional<Field> wslb = namespaces.take(kWslbMetadataNamespace)) {
      MapReader reader(ctx, *wslb);
      if (reader.isMap()) read_wslb(reader);
      reader.finish();
    }
    // Other namespaces are google.protobuf.Struct values, i.e. JSON objects.
    if (filter_metadata->node.IsMap()) {
      for (auto it = filter_metadata->node.begin(); it != filter_metadata->node.end(); ++it) {
        if (!it->first.IsScalar() || it->first.Scalar() == kWslbMetadataNamespace) continue;
        Field value{it->second, childPath(filter_metadata->path, it->first.Scalar())};
        if (!value.node.IsMap() && !value.node.IsNull())
          ctx.error(value.path, "expected a mapping");
        namespaces.accept({it->first.Scalar()});
      }
    }
    namespaces.finish();
  }
  metadata.accept({"typed_filter_metadata"});
  metadata.finish();
}

}  // namespace wslb::config
