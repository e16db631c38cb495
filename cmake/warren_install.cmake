include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(warren_installed_targets warren warren_protocol warren_emulator warren_client)
set(warren_header_dirs protocol emulator client)
set(WARREN_CONFIG_WITH_AMQP OFF)
if(TARGET warren_client_amqp)
  list(APPEND warren_installed_targets warren_client_amqp)
  list(APPEND warren_header_dirs client/amqp)
  set(WARREN_CONFIG_WITH_AMQP ON)
endif()
install(TARGETS ${warren_installed_targets}
        EXPORT warrenTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
foreach(dir ${warren_header_dirs})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endforeach()
# warren-server, the broker for clients that speak AMQP themselves (pika, amqplib, rabbitmq-c...).
if(TARGET warren-server)
  install(TARGETS warren-server RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(EXPORT warrenTargets NAMESPACE warren:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/warren)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/warrenConfig.cmake.in
  ${PROJECT_BINARY_DIR}/warrenConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/warren)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/warrenConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/warrenConfig.cmake ${PROJECT_BINARY_DIR}/warrenConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/warren)
