import Foundation
import Media
import RecorderCore
import Simulation

/// The executable wires the simulated city into the recorder core (no production module
/// depends on the simulator): the site's sim:// cameras become a city whose streams are
/// opened by the `sim` scheme.
enum SiteSources {
    /// The city behind the inventory's sim:// cameras, or nil when it has none.
    static func simulation(for inventory: CameraInventory, cache: SimulatedFootageCache = SimulatedFootageCache()) -> SimulatedCityRuntime? {
        let simulated = inventory.cameras.filter { SimulatedAddress.parse($0.mainURL) != nil }
        guard !simulated.isEmpty else { return nil }
        return SimulatedCityRuntime(
            city: SimulatedCity(
                cameras: simulated.map { SimulatedCameraSpec(id: $0.id, name: $0.name, location: $0.location, neighbours: $0.neighbours) },
                loopSeconds: inventory.site.simulationLoopSeconds ?? 60),
            cache: cache, timeZone: inventory.site.timeZone)
    }

    static func schemes(_ simulation: SimulatedCityRuntime?) -> [String: SchemeOpener] {
        guard let simulation else { return [:] }
        return ["sim": { url, interrupt throws(MediaError) in try simulation.open(url: url, interrupt: interrupt) }]
    }

    /// The recorder core of a site, and its simulated city if it has one.
    static func core(
        _ inventory: CameraInventory, connectTimeout: Duration = .seconds(10), readTimeout: Duration = .seconds(10)
    ) -> (RecorderCore, SimulatedCityRuntime?) {
        let simulation = simulation(for: inventory)
        return (RecorderCore(inventory: inventory, schemes: schemes(simulation), connectTimeout: connectTimeout, readTimeout: readTimeout), simulation)
    }
}
