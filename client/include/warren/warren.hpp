// warren: an embedded RabbitMQ emulator. Include this one header.
#pragma once

#include "warren/connection.hpp"
#include "warren/delivery.hpp"
#include "warren/emulator/broker.hpp"
#include "warren/errors.hpp"
#include "warren/options.hpp"
#include "warren/protocol/basic_properties.hpp"
#include "warren/protocol/field_value.hpp"
#include "warren/protocol/reply_code.hpp"
