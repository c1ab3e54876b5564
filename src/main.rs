fn main() {
    println!("patchwright");
}
