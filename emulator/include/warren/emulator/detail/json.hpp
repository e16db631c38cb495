// AMQP field tables as JSON, the way RabbitMQ's management API converts them: for definitions
// (Broker::export_definitions / import_definitions) and warren-server's HTTP API.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "warren/protocol/field_value.hpp"

namespace warren::detail {

/// A field value as the management API shows it: strings, numbers, booleans, null for void,
/// arrays, objects; timestamps as seconds, decimals as numbers, byte arrays as strings.
boost::json::value to_json(const FieldValue& value);
/// A table as a JSON object, its keys sorted (RabbitMQ keeps declared arguments sorted).
boost::json::object to_json(const FieldTable& table);

/// JSON given to the management API as AMQP (rabbit_mgmt_format's to_amqp_table): integers
/// become signed 64-bit (long), other numbers doubles, strings long strings, objects tables,
/// arrays arrays, null void.
FieldValue field_from_json(const boost::json::value& value);
FieldTable table_from_json(const boost::json::object& object);

}  // namespace warren::detail
